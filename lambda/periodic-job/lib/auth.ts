/**
 * The API credential in the secret `SECRET_ARN`: its `SecretString` is either the raw token
 * (surrounding whitespace trimmed) or a JSON object `{"token": "<token>"}` (other keys ignored).
 * It is sent as `<AUTH_HEADER>: <AUTH_SCHEME> <token>` (`Authorization: Bearer <token>` by default).
 *
 * A secret the construct created holds `{"notSet": true, ...}` until someone sets the token: a run
 * then sends nothing to the API and is skipped (`CredentialNotSetError`), rather than sending a
 * value nobody chose.
 */

/** The secret's content is unusable; the message never contains the secret. */
export class CredentialFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialFormatError';
  }
}

/** The secret still holds the construct's placeholder: nobody has set the token yet. */
export class CredentialNotSetError extends Error {
  constructor() {
    super('The API credential is not set: the secret still holds its placeholder {"notSet": true}; set it to the token, or to {"token": "..."}');
    this.name = 'CredentialNotSetError';
  }
}

/** Visible ASCII and spaces/tabs inside (a valid header field value, RFC 9110). */
const TOKEN_TEXT = /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/;
const MAX_TOKEN_LENGTH = 8192;

export function parseToken(secretString: string): string {
  const trimmed = secretString.trim();
  let token: unknown = trimmed;
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new CredentialFormatError('The secret looks like JSON but does not parse; store the raw token or {"token": "..."}');
    }
    if ((parsed as { notSet?: unknown } | null)?.notSet === true) throw new CredentialNotSetError();
    token = (parsed as { token?: unknown } | null)?.token;
    if (typeof token !== 'string') throw new CredentialFormatError('The secret JSON has no string "token" field');
    token = token.trim();
  }
  const text = token as string;
  if (text.length === 0 || text.length > MAX_TOKEN_LENGTH || !TOKEN_TEXT.test(text)) {
    throw new CredentialFormatError(`The token in the secret must be 1..${MAX_TOKEN_LENGTH} printable ASCII characters`);
  }
  return text;
}

export function authHeaderValue(token: string, scheme: string | undefined): string {
  return scheme === undefined ? token : `${scheme} ${token}`;
}
