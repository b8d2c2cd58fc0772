/** How a caller proved who it is. */
export type CredentialKind = 'api_key' | 'jwt';

/**
 * An authenticated caller. The tenant comes from the credential (an API key's record, a JWT's
 * `tenant` claim), never from a request body.
 */
export interface Principal {
  /** For logs and the access log: `api-key:<key id>` or `jwt:<sub>`. Never a secret. */
  who: string;
  /** The tenant (base id) this credential may act for. */
  tenant: string;
  kind: CredentialKind;
  /** One rate-limit bucket per credential: `api-key:<id>` or `jwt:<tenant>:<sub>`. */
  credentialId: string;
}

/** The port IngestApi authenticates with; `Authenticator` is the built-in one. */
export interface RequestAuthenticator {
  /**
   * Resolves the `Authorization` header to a principal or throws `AuthError` (401); a failure of
   * the verifier itself (a JWKS endpoint that does not answer) is a `WardenError` with code
   * `auth_unavailable` (503).
   */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/** A tenant id has the shape of a base id (the generation request's `base_id`). */
export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
