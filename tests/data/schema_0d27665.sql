-- The store's schema as release 0d27665 (the last before migrations) created it on SQLite:
-- tools/store.py SCHEMA followed by api/db.py API_SCHEMA, verbatim. On PostgreSQL that release
-- rewrote 'id INTEGER PRIMARY KEY' to a BIGINT identity column (see test_migrations.py).
CREATE TABLE IF NOT EXISTS workspaces (workspace_id TEXT PRIMARY KEY, data_dir TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  ticket_id TEXT PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', thread_id TEXT, customer_id TEXT, subject TEXT, body TEXT,
  status TEXT NOT NULL DEFAULT 'open', priority TEXT, owner TEXT, duplicate_of TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, ticket_id TEXT, body TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS tags (ticket_id TEXT, tag TEXT, visibility TEXT, created_at TEXT,
  PRIMARY KEY (ticket_id, tag));
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, ticket_id TEXT, recipient TEXT, subject TEXT,
  body TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS money (id INTEGER PRIMARY KEY, ticket_id TEXT, customer_id TEXT, kind TEXT,
  invoice TEXT, amount TEXT, reason TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS escalations (id INTEGER PRIMARY KEY, ticket_id TEXT, team TEXT, summary TEXT,
  needs TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, team TEXT, message TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS account_changes (id INTEGER PRIMARY KEY, ticket_id TEXT, customer_id TEXT,
  kind TEXT, detail TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS knowledge_gaps (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', ticket_id TEXT, category TEXT,
  query TEXT, top_score REAL, created_at TEXT);
CREATE TABLE IF NOT EXISTS ledger (thread_id TEXT NOT NULL, action_id TEXT NOT NULL, action TEXT NOT NULL,
  args TEXT, tier TEXT, result TEXT, applied_at TEXT NOT NULL, PRIMARY KEY (thread_id, action_id));
CREATE TABLE IF NOT EXISTS action_outbox (thread_id TEXT NOT NULL, action_id TEXT NOT NULL, interrupt_id TEXT,
  action TEXT NOT NULL, args TEXT NOT NULL, tier TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (thread_id, action_id));
CREATE TABLE IF NOT EXISTS run_archive (thread_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, view TEXT NOT NULL,
  archived_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (thread_id TEXT NOT NULL, interrupt_id TEXT NOT NULL, decision TEXT NOT NULL,
  reviewer TEXT, payload TEXT, decided_at TEXT NOT NULL, completed_at TEXT, PRIMARY KEY (thread_id, interrupt_id));
CREATE TABLE IF NOT EXISTS runs (thread_id TEXT PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', ticket_id TEXT,
  customer_id TEXT, status TEXT,
  category TEXT, priority TEXT, sla_hours REAL, risk_flags TEXT, summary TEXT, interrupt_id TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL DEFAULT 'default', thread_id TEXT,
  ticket_id TEXT, category TEXT,
  kind TEXT, detail TEXT, created_at TEXT);
CREATE INDEX IF NOT EXISTS tickets_by_customer ON tickets (workspace, customer_id);

CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, key_hash TEXT NOT NULL, role TEXT NOT NULL,
  tenant TEXT NOT NULL, name TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS api_tickets (thread_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, idempotency_key TEXT,
  submitted_by TEXT, ticket TEXT NOT NULL, status TEXT NOT NULL, tiers TEXT, error TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (tenant, idempotency_key));
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, thread_id TEXT NOT NULL, event TEXT NOT NULL,
  actor TEXT, detail TEXT, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_thread ON audit (thread_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)
;
