"""Test settings: the real settings, with fast hashing and no outside effects."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment-1b6f0c9e8d7a5f4e3d2c1b0a")

from practice.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns when it is missing)
# Two-factor sign-in is tested on its own (tests/practice/test_security.py turns it on); other tests
# sign people in with force_login and would otherwise meet the two-factor page first.
PRACTICE_REQUIRE_2FA = False
