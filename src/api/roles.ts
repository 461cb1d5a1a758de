// Who may do what, as data. Each route declares the roles allowed to call it (exported in the
// OpenAPI document as `x-roles`), or that it is public (`x-public: true`) like a transparency log.
// `client`: a consumer of a model served by `hallmark guard`; it may call the guard's inference
// routes and nothing of this API (it is in no access list below).
export const ROLES = ['admin', 'engineer', 'verifier', 'compliance', 'legal', 'auditor', 'client'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/** A route's access rule: public, or the roles whose keys may call it. */
export type Access = 'public' | readonly Role[];

/** Every role but `client`: reads that any key holder of this API may make. */
export const ANY_ROLE: readonly Role[] = ROLES.filter((r) => r !== 'client');
/** Registering models and datasets, appending entries, embedding. */
export const WRITERS: readonly Role[] = ['admin', 'engineer'];
/** Key management. */
export const ADMINS: readonly Role[] = ['admin'];
/** Whole-ledger audits: the auditor reads everything, compliance answers for provenance. */
export const AUDITORS: readonly Role[] = ['admin', 'auditor', 'compliance'];
/** Provenance proofs: compliance builds them; the auditor reads them. */
export const COMPLIANCE: readonly Role[] = ['admin', 'compliance'];
/** Ownership evidence (it reveals a model's watermark secret to whoever holds the files). */
export const LEGAL: readonly Role[] = ['admin', 'legal'];
/** Verification of suspects and calibration. */
export const VERIFIERS: readonly Role[] = ['admin', 'verifier'];
/** Reads of a capability's results: its own roles plus the auditor, who reads everything. */
export function readersOf(roles: readonly Role[]): readonly Role[] {
  return roles.includes('auditor') ? roles : [...roles, 'auditor'];
}
