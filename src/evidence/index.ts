export { EvidenceError, type EvidenceErrorCode } from './errors.js';
export { pae, readEnvelope, signEnvelope, verifyEnvelope, IN_TOTO_PAYLOAD_TYPE, type DsseEnvelope, type DsseSignature } from './dsse.js';
export { dsseKeyId, parseSignerKey, parseVerifierKey, type OwnerSigningKey, type OwnerVerifyingKey } from './owner-key.js';
