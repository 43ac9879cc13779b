/**
 * Spent relay-ticket nonces. A nonce is remembered until its ticket would have expired anyway,
 * so the table stays as small as the number of tickets issued in the last minute.
 */
export class NonceStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Records `nonce` as spent; false if it was spent before. Synchronous check-and-set. */
  spend(nonce: string, expiresAt: number, nowMs: number): boolean {
    this.sql.exec("DELETE FROM spent_nonces WHERE expires_at <= ?", nowMs);
    const seen = this.sql.exec("SELECT 1 FROM spent_nonces WHERE nonce = ?", nonce).toArray().length > 0;
    if (seen) return false;
    this.sql.exec("INSERT INTO spent_nonces (nonce, expires_at) VALUES (?, ?)", nonce, expiresAt);
    return true;
  }
}
