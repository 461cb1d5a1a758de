// Which keys may sign which records in one home: the owner's key signs everything protected; a
// service key listed in the home's config.json ("serviceKeys") may sign writer 'service' types.
import { RecordError } from './errors.js';
import type { RecordType } from './record-type.js';

export interface TrustedKeys {
  /** The owner's verifier key string. */
  readonly owner: string;
  /** Service verifier keys (e.g. a verification service's own key). */
  readonly service?: readonly string[];
}

/** The role the key plays for this type, or throws RECORD_UNTRUSTED_SIGNER. */
export function entitled(rt: RecordType<unknown>, key: string, trust: TrustedKeys): 'owner' | 'service' {
  if (key === trust.owner) return 'owner';
  if (rt.writer === 'service' && (trust.service ?? []).includes(key)) return 'service';
  const who = rt.writer === 'owner' ? "the home's owner key" : "the home's owner key or a service key listed in its config.json";
  throw new RecordError('RECORD_UNTRUSTED_SIGNER', `${rt.type} must be signed by ${who}; it is signed by ${key.split('+').slice(0, 2).join('+')}`);
}
