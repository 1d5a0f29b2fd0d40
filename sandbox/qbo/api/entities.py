"""Every QBO entity type the emulator serves, declared once. The generic engine, the query language, CDC,
batch, the importer and the seed generator all read these declarations.

Property lists are Intuit's (python-quickbooks' object model and the "known properties" of Intuit's own
2010 fault); a property outside them is answered with 2010, as QBO does."""

from __future__ import annotations

from sandbox.qbo.api.entity import (
    NAME_LIST,
    READ_ONLY,
    SINGLETON,
    SYSTEM_FIELDS,
    TRANSACTION,
    EntityType,
    RefRule,
    Settlement,
)
from sandbox.qbo.api.rules import company, documents, linking, names, settlement
from sandbox.qbo.api.rules.documents import PSEUDO_TAX_CODES, journal_entity
from sandbox.qbo.api.rules.settlement import bill_payment_back_type


def _props(*groups: str) -> frozenset[str]:
    return frozenset(SYSTEM_FIELDS | {name for group in groups for name in group.split()})


PARTY_NAMES = "DisplayName Title GivenName MiddleName FamilyName Suffix CompanyName PrintOnCheckName Active"
CONTACT = "PrimaryPhone AlternatePhone Mobile Fax PrimaryEmailAddr WebAddr BillAddr OtherAddr"
TXN = (
    "TxnDate DocNumber PrivateNote CurrencyRef ExchangeRate Line LinkedTxn TxnSource DepartmentRef TotalAmt "
    "HomeTotalAmt GlobalTaxCalculation TxnTaxDetail TransactionLocationType TaxExemptionRef RecurDataRef "
    "ProjectRef Tag AttachableRef TxnStatus"
)
SALES = (
    "CustomerRef CustomerMemo BillAddr ShipAddr ShipFromAddr FreeFormAddress ShipDate ShipMethodRef TrackingNum "
    "ClassRef SalesTermRef DueDate BillEmail BillEmailCc BillEmailBcc EmailStatus PrintStatus DeliveryInfo "
    "CustomField ApplyTaxAfterDiscount DepositToAccountRef PaymentMethodRef PaymentRefNum Balance HomeBalance "
    "SalesRepRef PONumber FOB DiscountRate DiscountAmt"
)
INVOICE = (
    "Deposit AllowIPNPayment AllowOnlinePayment AllowOnlineCreditCardPayment AllowOnlineACHPayment InvoiceLink "
    "EInvoiceStatus ECloudStatusTimeStamp AutoDocNumber callToAction InvoiceEx invoiceStatusLog LessCIS "
    "TaxFormNum TaxFormType RemitToRef PaymentDetailsMessage TxnApprovalInfo ConvenienceFeeDetail"
)
PREFERENCE_SECTIONS = (
    "AccountingInfoPrefs ProductAndServicesPrefs SalesFormsPrefs VendorAndPurchasesPrefs TimeTrackingPrefs "
    "TaxPrefs CurrencyPrefs ReportPrefs OtherPrefs EmailMessagesPrefs"
)
COMPANY_FIELDS = (
    "CompanyName LegalName CompanyAddr CustomerCommunicationAddr LegalAddr CustomerCommunicationEmailAddr "
    "PrimaryPhone CompanyStartDate FiscalYearStartMonth Country Email WebAddr SupportedLanguages NameValue"
)
PURCHASE = "VendorRef APAccountRef VendorAddr SalesTermRef DueDate Balance ShipAddr ClassRef"

SALES_LINE_REFS = (
    RefRule(("Line", "SalesItemLineDetail", "ItemRef"), "Item"),
    RefRule(("Line", "SalesItemLineDetail", "ClassRef"), "Class"),
    RefRule(("Line", "SalesItemLineDetail", "TaxCodeRef"), "TaxCode", pseudo=PSEUDO_TAX_CODES),
    RefRule(("Line", "DiscountLineDetail", "DiscountAccountRef"), "Account"),
    RefRule(("Line", "DiscountLineDetail", "ClassRef"), "Class"),
    RefRule(("TxnTaxDetail", "TxnTaxCodeRef"), "TaxCode"),
    RefRule(("CustomerRef",), "Customer"),
    RefRule(("SalesTermRef",), "Term"),
    RefRule(("DepartmentRef",), "Department"),
    RefRule(("ClassRef",), "Class"),
    RefRule(("DepositToAccountRef",), "Account"),
    RefRule(("PaymentMethodRef",), "PaymentMethod"),
)
EXPENSE_LINE_REFS = (
    *(
        RefRule(
            ("Line", detail, key), target, pseudo=PSEUDO_TAX_CODES if target == "TaxCode" else frozenset()
        )
        for detail in ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
        for key, target in (
            ("AccountRef", "Account"),
            ("ItemRef", "Item"),
            ("CustomerRef", "Customer"),
            ("ClassRef", "Class"),
            ("TaxCodeRef", "TaxCode"),
        )
    ),
    RefRule(("VendorRef",), "Vendor"),
    RefRule(("APAccountRef",), "Account"),
    RefRule(("DepartmentRef",), "Department"),
    RefRule(("ClassRef",), "Class"),
)

SALES_MANAGED = frozenset({"TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "LinkedTxn", "InvoiceLink"})
TXN_STICKY = frozenset({"CurrencyRef", "TxnDate", "DocNumber", "ExchangeRate"})
NAME_STICKY = frozenset({"CurrencyRef", "Active"})

CUSTOMER_PAYMENT = Settlement(
    targets={"Invoice": "Invoice", "CreditMemo": "CreditMemo"},
    credits=frozenset({"CreditMemo"}),
    back_type=lambda body: "Payment",
)
VENDOR_PAYMENT = Settlement(
    targets={"Bill": "Bill", "VendorCredit": "VendorCredit"},
    credits=frozenset({"VendorCredit"}),
    back_type=bill_payment_back_type,
)

ENTITY_LIST: tuple[EntityType, ...] = (
    # --- name lists -------------------------------------------------------------------------------------
    EntityType(
        name="Customer",
        kind=NAME_LIST,
        properties=_props(
            PARTY_NAMES,
            CONTACT,
            "ShipAddr Notes Job BillWithParent ParentRef Level FullyQualifiedName Taxable DefaultTaxCodeRef "
            "SalesTermRef PaymentMethodRef ARAccountRef Balance BalanceWithJobs OpenBalanceDate CurrencyRef "
            "PreferredDeliveryMethod ResaleNum PrimaryTaxIdentifier IsProject TaxExemptionReasonId "
            "CustomerTypeRef GSTIN BusinessNumber ClientEntityId Source SecondaryTaxIdentifier",
        ),
        id_sequence="name",
        managed=frozenset({"Balance", "BalanceWithJobs", "FullyQualifiedName", "Level"}),
        sticky=NAME_STICKY,
        defaults={"BillWithParent": False, "PreferredDeliveryMethod": "Print"},
        refs=(
            RefRule(("SalesTermRef",), "Term"),
            RefRule(("PaymentMethodRef",), "PaymentMethod"),
            RefRule(("DefaultTaxCodeRef",), "TaxCode"),
            RefRule(("ARAccountRef",), "Account"),
        ),
        hooks=(names.display_name, names.naming, names.customer),
        name_field="DisplayName",
        name_scope=("Customer", "Vendor", "Employee"),
        has_fqn=True,
        parent_flag="Job",
        ref_name="DisplayName",
    ),
    EntityType(
        name="Vendor",
        kind=NAME_LIST,
        properties=_props(
            PARTY_NAMES,
            CONTACT,
            "AcctNum Vendor1099 Balance BillRate CostRate TermRef APAccountRef CurrencyRef TaxIdentifier "
            "TaxReportingBasis T4AEligible T5018Eligible HasTPAR VendorPaymentBankDetail GSTIN BusinessNumber "
            "GSTRegistrationType Source",
        ),
        id_sequence="name",
        managed=frozenset({"Balance"}),
        sticky=NAME_STICKY,
        defaults={"Vendor1099": False},
        refs=(RefRule(("TermRef",), "Term"), RefRule(("APAccountRef",), "Account")),
        hooks=(names.display_name, names.naming, names.vendor),
        name_field="DisplayName",
        name_scope=("Customer", "Vendor", "Employee"),
        ref_name="DisplayName",
    ),
    EntityType(
        name="Employee",
        kind=NAME_LIST,
        properties=_props(
            PARTY_NAMES,
            "PrimaryPhone Mobile PrimaryEmailAddr EmailAddress PrimaryAddr EmployeeNumber SSN BillableTime BillRate "
            "CostRate Organization BirthDate HiredDate ReleasedDate Gender",
        ),
        id_sequence="name",
        sticky=NAME_STICKY,
        hooks=(names.display_name, names.naming),
        name_field="DisplayName",
        name_scope=("Customer", "Vendor", "Employee"),
        ref_name="DisplayName",
    ),
    EntityType(
        name="Account",
        kind=NAME_LIST,
        properties=_props(
            "Name AcctNum Description Active SubAccount ParentRef FullyQualifiedName Classification AccountType "
            "AccountSubType AccountAlias TxnLocationType CurrentBalance CurrentBalanceWithSubAccounts CurrencyRef "
            "TaxCodeRef"
        ),
        id_sequence="Account",
        required=("Name",),
        managed=frozenset(
            {"CurrentBalance", "CurrentBalanceWithSubAccounts", "FullyQualifiedName", "Classification"}
        ),
        sticky=NAME_STICKY,
        refs=(RefRule(("TaxCodeRef",), "TaxCode"),),
        hooks=(names.naming, names.account),
        name_field="Name",
        has_fqn=True,
        parent_flag="SubAccount",
        ref_name="FullyQualifiedName",
    ),
    EntityType(
        name="Item",
        kind=NAME_LIST,
        properties=_props(
            "Name Sku Description Active SubItem ParentRef Level FullyQualifiedName Type ItemCategoryType Taxable "
            "SalesTaxIncluded PurchaseTaxIncluded UnitPrice RatePercent PurchaseDesc PurchaseCost IncomeAccountRef "
            "ExpenseAccountRef AssetAccountRef PrefVendorRef TrackQtyOnHand QtyOnHand ReorderPoint InvStartDate "
            "SalesTaxCodeRef PurchaseTaxCodeRef AbatementRate ReverseChargeRate ServiceType ClassRef Source"
        ),
        id_sequence="Item",
        required=("Name",),
        managed=frozenset({"FullyQualifiedName", "Level"}),
        sticky=NAME_STICKY,
        refs=(
            RefRule(("IncomeAccountRef",), "Account"),
            RefRule(("ExpenseAccountRef",), "Account"),
            RefRule(("AssetAccountRef",), "Account"),
            RefRule(("SalesTaxCodeRef",), "TaxCode"),
            RefRule(("PurchaseTaxCodeRef",), "TaxCode"),
            RefRule(("PrefVendorRef",), "Vendor"),
        ),
        hooks=(names.naming, names.item),
        name_field="Name",
        has_fqn=True,
        parent_flag="SubItem",
        ref_name="Name",
    ),
    EntityType(
        name="Class",
        kind=NAME_LIST,
        properties=_props("Name Active SubClass ParentRef FullyQualifiedName"),
        id_sequence="Class",
        required=("Name",),
        managed=frozenset({"FullyQualifiedName"}),
        sticky=NAME_STICKY,
        hooks=(names.naming,),
        name_field="Name",
        has_fqn=True,
        parent_flag="SubClass",
        ref_name="FullyQualifiedName",
    ),
    EntityType(
        name="Department",
        kind=NAME_LIST,
        properties=_props("Name Active SubDepartment ParentRef FullyQualifiedName"),
        id_sequence="Department",
        required=("Name",),
        managed=frozenset({"FullyQualifiedName"}),
        sticky=NAME_STICKY,
        hooks=(names.naming,),
        name_field="Name",
        has_fqn=True,
        parent_flag="SubDepartment",
        ref_name="FullyQualifiedName",
    ),
    EntityType(
        name="Term",
        kind=NAME_LIST,
        properties=_props(
            "Name Active Type DiscountPercent DueDays DiscountDays DayOfMonthDue DueNextMonthDays DiscountDayOfMonth"
        ),
        id_sequence="Term",
        required=("Name",),
        sticky=NAME_STICKY,
        hooks=(names.naming, names.term),
        name_field="Name",
    ),
    EntityType(
        name="PaymentMethod",
        kind=NAME_LIST,
        properties=_props("Name Active Type"),
        id_sequence="PaymentMethod",
        required=("Name",),
        sticky=NAME_STICKY,
        hooks=(names.naming, names.payment_method),
        name_field="Name",
        ref_name="Name",
    ),
    # --- read-only tax entities -------------------------------------------------------------------------
    EntityType(
        name="TaxCode",
        kind=READ_ONLY,
        properties=_props(
            "Name Description Active Hidden Taxable TaxGroup SalesTaxRateList PurchaseTaxRateList AdjustmentTaxRateList "
            "TaxCodeConfigType"
        ),
        id_sequence="TaxCode",
        name_field="Name",
        cdc=False,
        webhook=False,
    ),
    EntityType(
        name="TaxRate",
        kind=READ_ONLY,
        properties=_props(
            "Name Description Active RateValue AgencyRef TaxReturnLineRef SpecialTaxType DisplayType EffectiveTaxRate"
        ),
        id_sequence="TaxRate",
        name_field="Name",
        ref_name="Name",
        cdc=False,
        webhook=False,
    ),
    # --- sales transactions -----------------------------------------------------------------------------
    EntityType(
        name="Invoice",
        kind=TRANSACTION,
        properties=_props(TXN, SALES, INVOICE),
        id_sequence="txn",
        required=("CustomerRef", "Line"),
        managed=SALES_MANAGED,
        sticky=TXN_STICKY,
        defaults={"LinkedTxn": []},
        refs=SALES_LINE_REFS,
        hooks=(documents.sales_document, documents.invoice),
        party=("Customer", "CustomerRef"),
        party_amount=settlement.owed,
        open_balance=("Balance",),
        back_link_types=frozenset({"Payment"}),
        auto_doc_number=True,
        unique_doc_number=True,
        void=documents.void_document,
    ),
    EntityType(
        name="CreditMemo",
        kind=TRANSACTION,
        properties=_props(TXN, SALES, "RemainingCredit InvoiceRef"),
        id_sequence="txn",
        required=("CustomerRef", "Line"),
        managed=SALES_MANAGED | {"RemainingCredit"},
        sticky=TXN_STICKY,
        refs=SALES_LINE_REFS,
        hooks=(documents.sales_document,),
        party=("Customer", "CustomerRef"),
        party_amount=settlement.credited,
        open_balance=("Balance", "RemainingCredit"),
        back_link_types=frozenset({"Payment"}),
        auto_doc_number=True,
        unique_doc_number=True,
    ),
    EntityType(
        name="SalesReceipt",
        kind=TRANSACTION,
        properties=_props(TXN, SALES, "CreditCardPayment"),
        id_sequence="txn",
        required=("Line",),
        managed=SALES_MANAGED,
        sticky=TXN_STICKY,
        refs=SALES_LINE_REFS,
        hooks=(documents.sales_document, documents.sales_receipt),
        auto_doc_number=True,
        unique_doc_number=True,
        void=documents.void_document,
        void_by_include=True,
    ),
    EntityType(
        name="Estimate",
        kind=TRANSACTION,
        properties=_props(TXN, SALES, "ExpirationDate AcceptedBy AcceptedDate"),
        id_sequence="txn",
        required=("CustomerRef", "Line"),
        managed=frozenset({"TotalAmt", "HomeTotalAmt"}),
        sticky=TXN_STICKY,
        refs=SALES_LINE_REFS,
        hooks=(documents.sales_document, documents.estimate),
        auto_doc_number=True,
        unique_doc_number=True,
    ),
    EntityType(
        name="Payment",
        kind=TRANSACTION,
        properties=_props(
            TXN,
            "CustomerRef ARAccountRef DepositToAccountRef PaymentMethodRef PaymentRefNum CreditCardPayment "
            "TotalAmt UnappliedAmt ProcessPayment",
        ),
        id_sequence="txn",
        required=("CustomerRef", "TotalAmt"),
        managed=frozenset({"UnappliedAmt"}),
        sticky=TXN_STICKY,
        refs=(
            RefRule(("CustomerRef",), "Customer"),
            RefRule(("DepositToAccountRef",), "Account"),
            RefRule(("ARAccountRef",), "Account"),
            RefRule(("PaymentMethodRef",), "PaymentMethod"),
        ),
        hooks=(settlement.payment, settlement.customer_payment),
        party=("Customer", "CustomerRef"),
        party_amount=settlement.unapplied,
        settlement=CUSTOMER_PAYMENT,
        void=settlement.void_payment,
        void_by_include=True,
    ),
    # --- purchase transactions --------------------------------------------------------------------------
    EntityType(
        name="Bill",
        kind=TRANSACTION,
        properties=_props(TXN, PURCHASE),
        id_sequence="txn",
        required=("VendorRef", "Line"),
        managed=frozenset({"TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "LinkedTxn"}),
        sticky=TXN_STICKY,
        defaults={"LinkedTxn": []},
        refs=(*EXPENSE_LINE_REFS, RefRule(("SalesTermRef",), "Term")),
        hooks=(documents.purchase_document, documents.bill, linking.line_links),
        party=("Vendor", "VendorRef"),
        party_amount=settlement.owed,
        open_balance=("Balance",),
        back_link_types=frozenset({"BillPaymentCheck", "BillPaymentCreditCard"}),
        line_sources=frozenset({"PurchaseOrder"}),
    ),
    EntityType(
        name="VendorCredit",
        kind=TRANSACTION,
        properties=_props(TXN, "VendorRef APAccountRef Balance FromAccountRef ToAccountRef"),
        id_sequence="txn",
        required=("VendorRef", "Line"),
        managed=frozenset({"TotalAmt", "HomeTotalAmt", "Balance", "LinkedTxn"}),
        sticky=TXN_STICKY,
        refs=EXPENSE_LINE_REFS,
        hooks=(documents.purchase_document,),
        party=("Vendor", "VendorRef"),
        party_amount=settlement.credited,
        open_balance=("Balance",),
        back_link_types=frozenset({"BillPaymentCheck", "BillPaymentCreditCard"}),
    ),
    EntityType(
        name="PurchaseOrder",
        kind=TRANSACTION,
        properties=_props(
            TXN,
            PURCHASE,
            "POStatus POEmail Memo ShipMethodRef CustomField TaxCodeRef EmailStatus PrintStatus",
        ),
        id_sequence="txn",
        required=("VendorRef", "Line"),
        # LinkedTxn lists the bills made from the order: QBO's to write.
        managed=frozenset({"TotalAmt", "HomeTotalAmt", "LinkedTxn"}),
        sticky=TXN_STICKY,
        refs=EXPENSE_LINE_REFS,
        hooks=(documents.purchase_document, documents.purchase_order),
        auto_doc_number=True,
        fulfilment=("POStatus", "Open", "Closed"),
    ),
    EntityType(
        name="BillPayment",
        kind=TRANSACTION,
        properties=_props(
            TXN, "VendorRef APAccountRef PayType CheckPayment CreditCardPayment ProcessBillPayment"
        ),
        id_sequence="txn",
        required=("VendorRef", "TotalAmt", "PayType"),
        sticky=TXN_STICKY,
        refs=(
            RefRule(("VendorRef",), "Vendor"),
            RefRule(("APAccountRef",), "Account"),
            RefRule(("DepartmentRef",), "Department"),
            RefRule(("CheckPayment", "BankAccountRef"), "Account"),
            RefRule(("CreditCardPayment", "CCAccountRef"), "Account"),
        ),
        hooks=(settlement.bill_payment, settlement.payment),
        party=("Vendor", "VendorRef"),
        settlement=VENDOR_PAYMENT,
        void=settlement.void_payment,
        void_by_include=True,
    ),
    # --- other transactions -----------------------------------------------------------------------------
    EntityType(
        name="JournalEntry",
        kind=TRANSACTION,
        properties=_props(TXN, "Adjustment HomeCurrencyAdjustment EnteredInHomeCurrency JournalCodeRef"),
        id_sequence="txn",
        required=("Line",),
        managed=frozenset({"TotalAmt", "HomeTotalAmt"}),
        sticky=TXN_STICKY,
        refs=(
            RefRule(("Line", "JournalEntryLineDetail", "AccountRef"), "Account"),
            RefRule(("Line", "JournalEntryLineDetail", "ClassRef"), "Class"),
            RefRule(("Line", "JournalEntryLineDetail", "DepartmentRef"), "Department"),
            RefRule(("Line", "JournalEntryLineDetail", "TaxCodeRef"), "TaxCode", pseudo=PSEUDO_TAX_CODES),
            RefRule(("Line", "JournalEntryLineDetail", "Entity", "EntityRef"), journal_entity),
        ),
        hooks=(documents.journal_entry,),
    ),
    EntityType(
        name="Deposit",
        kind=TRANSACTION,
        properties=_props(TXN, "DepositToAccountRef CashBack"),
        id_sequence="txn",
        required=("DepositToAccountRef", "Line"),
        managed=frozenset({"TotalAmt", "HomeTotalAmt"}),
        sticky=TXN_STICKY,
        refs=(
            RefRule(("DepositToAccountRef",), "Account"),
            RefRule(("Line", "DepositLineDetail", "AccountRef"), "Account"),
            RefRule(("Line", "DepositLineDetail", "PaymentMethodRef"), "PaymentMethod"),
            RefRule(("Line", "DepositLineDetail", "ClassRef"), "Class"),
        ),
        hooks=(documents.deposit,),
    ),
    # --- company-wide singletons ------------------------------------------------------------------------
    EntityType(
        name="Preferences",
        kind=SINGLETON,
        properties=_props(PREFERENCE_SECTIONS),
        id_sequence="singleton",
        # A full update of Preferences leaves the sections it does not send as they are.
        sticky=frozenset(PREFERENCE_SECTIONS.split()),
        hooks=(company.preferences,),
    ),
    EntityType(
        name="CompanyInfo",
        kind=SINGLETON,
        properties=_props(COMPANY_FIELDS),
        id_sequence="singleton",
        sticky=frozenset(COMPANY_FIELDS.split()),
        webhook=False,
    ),
)

ENTITIES: dict[str, EntityType] = {etype.name: etype for etype in ENTITY_LIST}
# URL segments and query entity names are matched without regard to case (`/journalentry`).
BY_FOLDED_NAME: dict[str, EntityType] = {etype.name.lower(): etype for etype in ENTITY_LIST}


def entity_named(name: str) -> EntityType | None:
    return BY_FOLDED_NAME.get(name.lower())
