//! WeChat Pay APIv3 cryptography: request signatures, reply and notification verification,
//! AEAD_AES_256_GCM decryption of notification resources.
