/**
 * The two users of the local identity provider. `sub` values are fixed UUIDs (Cognito's subs are
 * UUIDs too), so what the API stores per owner is predictable in a test.
 */
export interface TestAccount {
  readonly username: string;
  readonly password: string;
  readonly sub: string;
  readonly email: string;
  readonly name: string;
}

export const ALICE: TestAccount = {
  username: 'alice',
  password: 'alice-Passw0rd!',
  sub: '0a11ce00-0000-4000-8000-00000000a11c',
  email: 'alice@example.com',
  name: 'Alice Example',
};

export const BOB: TestAccount = {
  username: 'bob',
  password: 'bob-Passw0rd!',
  sub: '0b0b0000-0000-4000-8000-000000000b0b',
  email: 'bob@example.com',
  name: 'Bob Example',
};

export const TEST_ACCOUNTS: readonly TestAccount[] = [ALICE, BOB];
