"""Sensitive personal values: ID numbers encrypted at rest, masked wherever shown.

- `crypto`: SM4-GCM encryption and HMAC-SM3 keyed hashes, keys from the environment;
- `idnumbers`: GB 11643 validation of 身份证号, and a scanner for full numbers in text;
- `masking`: the one way ID numbers (310105********1234) and phones (138****5678) are masked;
- `fields`: `EncryptedIdNumberField` with its `IdNumberHashField`, and `PersonalPhoneField`;
- `views`: the reveal endpoint, for bureau staff, recorded in the audit trail.

Nothing here imports models at package import time, so settings and other modules may
import `crypto`, `idnumbers` and `masking` freely.
"""
