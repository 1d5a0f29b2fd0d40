from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_login_failed
from rest_framework import serializers

LOGIN_REFUSED = "Unable to log in with provided credentials."


class LoginSerializer(serializers.Serializer):
    """A staff user's username and password. Any other account is refused exactly as a wrong password is
    (same status, same words) and counted as a failed login, so the endpoint confirms no password."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # django-axes counts failures and locks out on Django's own request, not DRF's wrapper.
        request = getattr(self.context.get("request"), "_request", None)
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        if user is not None and not (user.is_active and user.is_staff):
            user_login_failed.send(
                sender=__name__, credentials={"username": attrs["username"]}, request=request
            )
            user = None
        if user is None:
            raise serializers.ValidationError(LOGIN_REFUSED, code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True,
        help_text="Send as `Authorization: Token <token>`. Shown this once: it is stored hashed.",
    )
    prefix = serializers.CharField(
        read_only=True, help_text="The token's first characters, as the admin lists it."
    )
    expiry = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the token stops working."
    )


class CurrentUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "is_staff",
            "is_superuser",
            "last_login",
        ]
        read_only_fields = fields
