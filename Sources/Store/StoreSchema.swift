import SQLite

/// The store's tables, as versioned migrations. Never edit a shipped migration: add one.
enum StoreSchema {
    /// Migration 7's index changes, the same SQL on both stores (PostgreSQL's migration 2).
    static let partialIndexesOfMigrationSeven = """
        DROP INDEX IF EXISTS log_recipient;
        CREATE INDEX log_recipient ON log_entries(recipient_id, seq) WHERE recipient_id IS NOT NULL;
        DROP INDEX IF EXISTS log_disclosure;
        CREATE INDEX log_disclosure ON log_entries(disclosure_id) WHERE disclosure_id IS NOT NULL;
        DROP INDEX IF EXISTS consents_document;
        CREATE INDEX consents_document ON consents(referral_id, document_digest) WHERE document_digest IS NOT NULL;
        DROP INDEX IF EXISTS outbox_disclosure;
        """

    static let main = SQLiteMigrator([
        """
        CREATE TABLE subjects (
            id TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            restricted INTEGER NOT NULL DEFAULT 0,
            erased_at INTEGER
        ) STRICT;

        CREATE TABLE referrals (
            id TEXT PRIMARY KEY,
            partner_id TEXT NOT NULL,
            reference_key BLOB NOT NULL,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            schema_id TEXT NOT NULL,
            body_digest BLOB NOT NULL,
            sealed_body BLOB,
            received_at INTEGER NOT NULL,
            receipt BLOB NOT NULL,
            UNIQUE (partner_id, reference_key)
        ) STRICT;
        CREATE INDEX referrals_subject ON referrals(subject_id);

        CREATE TABLE consents (
            id TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            referral_id TEXT NOT NULL REFERENCES referrals(id),
            partner_id TEXT NOT NULL,
            purposes TEXT NOT NULL,
            recipients TEXT,
            method TEXT NOT NULL,
            obtained_at INTEGER NOT NULL,
            expires_at INTEGER,
            withdrawn_at INTEGER,
            sealed_details BLOB,
            recorded_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX consents_subject ON consents(subject_id);

        CREATE TABLE disclosures (
            id TEXT PRIMARY KEY,
            referral_id TEXT NOT NULL REFERENCES referrals(id),
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            recipient_id TEXT,
            service TEXT NOT NULL,
            state TEXT NOT NULL,
            lawful_basis TEXT,
            consent_id TEXT,
            justification TEXT,
            actor TEXT NOT NULL,
            pointers TEXT NOT NULL,
            categories TEXT NOT NULL,
            reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX disclosures_referral ON disclosures(referral_id);
        CREATE INDEX disclosures_subject ON disclosures(subject_id);

        CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            disclosure_id TEXT NOT NULL REFERENCES disclosures(id),
            recipient_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            payload BLOB,
            state TEXT NOT NULL,
            enqueued_at INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        ) STRICT;
        CREATE INDEX outbox_due ON outbox(recipient_id, state, mode, next_attempt_at);
        CREATE INDEX outbox_recipient ON outbox(recipient_id, state, enqueued_at);
        CREATE INDEX outbox_disclosure ON outbox(disclosure_id);

        CREATE TABLE log_entries (
            seq INTEGER PRIMARY KEY,
            time INTEGER NOT NULL,
            event TEXT NOT NULL,
            actor TEXT NOT NULL,
            referral_id TEXT,
            subject_id TEXT,
            disclosure_id TEXT,
            recipient_id TEXT,
            lawful_basis TEXT,
            entry BLOB NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;
        CREATE INDEX log_subject ON log_entries(subject_id, seq);
        CREATE INDEX log_referral ON log_entries(referral_id, seq);
        CREATE INDEX log_recipient ON log_entries(recipient_id, seq);
        CREATE INDEX log_event ON log_entries(event, seq);
        CREATE INDEX log_time ON log_entries(time);
        CREATE INDEX log_disclosure ON log_entries(disclosure_id);

        CREATE TABLE log_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        ) STRICT;

        CREATE TABLE checkpoints (
            seq INTEGER PRIMARY KEY,
            hash TEXT NOT NULL,
            time INTEGER NOT NULL,
            signature BLOB NOT NULL,
            key_id TEXT NOT NULL
        ) STRICT;
        """,
        // Consent by purpose (issue 10): free text committed to by the log and sealed here, a
        // consent recorded twice answered once, withdrawals answered as the first time, and
        // mailbox acknowledgements remembered. `disclosures.justification` (plain text) is no
        // longer written; rows from before keep it until their subject is erased.
        """
        CREATE TABLE free_texts (
            digest TEXT PRIMARY KEY,
            subject_id TEXT NOT NULL REFERENCES subjects(id),
            sealed BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX free_texts_subject ON free_texts(subject_id);

        ALTER TABLE disclosures ADD COLUMN justification_digest TEXT;

        ALTER TABLE consents ADD COLUMN document_digest BLOB;
        ALTER TABLE consents ADD COLUMN receipt BLOB;
        ALTER TABLE consents ADD COLUMN withdrawal_receipt BLOB;
        CREATE INDEX consents_document ON consents(referral_id, document_digest);

        ALTER TABLE subjects ADD COLUMN withdrawal_receipt BLOB;

        CREATE TABLE acknowledgements (
            item_id TEXT PRIMARY KEY,
            recipient_id TEXT NOT NULL,
            acknowledged_at INTEGER NOT NULL
        ) STRICT;
        """,
        // Which partners acted: `refex log list --actor` checks a name against it.
        """
        CREATE INDEX log_actor ON log_entries(actor, seq);
        """,
        // The store's identity: the two databases name each other, and the master key is known by
        // a key check value (see StoreIdentity). One row; `probed_at` is written by the recovery
        // probe after a failed commit (a write that succeeds proves the disk takes writes again).
        """
        CREATE TABLE store_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            store_id TEXT NOT NULL,
            key_check TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            probed_at INTEGER
        ) STRICT;
        """,
        // Outbox claims (issue 14): a node takes a due push item for one attempt under a lease
        // (`lease_holder` until `lease_until`, ms), so that several nodes never attempt the same item
        // at once, and an item whose holder died is taken again once its lease ends.
        """
        ALTER TABLE outbox ADD COLUMN lease_holder TEXT;
        ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
        """,
        // Intake in one commit of the main database (issue 17): a referral's blind-index entries
        // are written to the keys database after its commit, in one of their own; until then its
        // id waits here (ids only), so that entries a crash lost are made again from the body.
        """
        CREATE TABLE subject_index_pending (
            referral_id TEXT PRIMARY KEY
        ) STRICT;
        """,
        // Fewer pages per intake commit (issue 17; BENCHMARKS.md). Entries with no recipient or no
        // disclosure (referral.received, consent.recorded, readings), and consents with no
        // document (those given with a referral), leave those indexes alone: every query on them
        // names a value (`= ?`, `IS NOT NULL`), which SQLite proves non-null, so the partial
        // indexes serve each as before (SQLiteLogQueryPlanTests). `outbox_disclosure` served no
        // query (items are found by id, by recipient and state): only the foreign key's check
        // when a disclosure is deleted, which refex never does. The waiting referrals become one
        // b-tree (WITHOUT ROWID: the id is the key) instead of a table and its key's index.
        """
        \(partialIndexesOfMigrationSeven)

        CREATE TABLE subject_index_waiting (
            referral_id TEXT PRIMARY KEY
        ) STRICT, WITHOUT ROWID;
        INSERT INTO subject_index_waiting (referral_id) SELECT referral_id FROM subject_index_pending;
        DROP TABLE subject_index_pending;
        ALTER TABLE subject_index_waiting RENAME TO subject_index_pending;
        """,
        // `log list --lawful-basis` (and the API's `lawfulBasis`): only entries about disclosures
        // made without consent carry one, so the index holds those alone (partial, as `log_recipient`).
        """
        CREATE INDEX IF NOT EXISTS log_lawful_basis ON log_entries(lawful_basis, seq) WHERE lawful_basis IS NOT NULL;
        """,
        // What `/metrics` counts (referrals; disclosures by state), kept by triggers in the same
        // commit as each change, so that a scrape reads a few rows instead of counting whole
        // tables (75 ms at 250,000 disclosures, and growing). Named `referrals` and
        // `disclosures.<state>`; every writer (intake, delivery, `store copy`) moves them. It
        // counts afresh when run again over its own table (a store whose version was set back).
        // The price: the counts' page in each commit (about 0.8 pages on a referral's commit).
        """
        DROP TABLE IF EXISTS store_counts;
        CREATE TABLE store_counts (
            name TEXT PRIMARY KEY,
            total INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        INSERT INTO store_counts (name, total) SELECT 'referrals', count(*) FROM referrals;
        INSERT INTO store_counts (name, total) SELECT 'disclosures.' || state, count(*) FROM disclosures GROUP BY state;

        DROP TRIGGER IF EXISTS referrals_counted_in;
        CREATE TRIGGER referrals_counted_in AFTER INSERT ON referrals BEGIN
            INSERT INTO store_counts (name, total) VALUES ('referrals', 1) ON CONFLICT (name) DO UPDATE SET total = total + 1;
        END;
        DROP TRIGGER IF EXISTS referrals_counted_out;
        CREATE TRIGGER referrals_counted_out AFTER DELETE ON referrals BEGIN
            UPDATE store_counts SET total = total - 1 WHERE name = 'referrals';
        END;
        DROP TRIGGER IF EXISTS disclosures_counted_in;
        CREATE TRIGGER disclosures_counted_in AFTER INSERT ON disclosures BEGIN
            INSERT INTO store_counts (name, total) VALUES ('disclosures.' || NEW.state, 1) ON CONFLICT (name) DO UPDATE SET total = total + 1;
        END;
        DROP TRIGGER IF EXISTS disclosures_counted_moved;
        CREATE TRIGGER disclosures_counted_moved AFTER UPDATE OF state ON disclosures WHEN OLD.state IS NOT NEW.state BEGIN
            UPDATE store_counts SET total = total - 1 WHERE name = 'disclosures.' || OLD.state;
            INSERT INTO store_counts (name, total) VALUES ('disclosures.' || NEW.state, 1) ON CONFLICT (name) DO UPDATE SET total = total + 1;
        END;
        DROP TRIGGER IF EXISTS disclosures_counted_out;
        CREATE TRIGGER disclosures_counted_out AFTER DELETE ON disclosures BEGIN
            UPDATE store_counts SET total = total - 1 WHERE name = 'disclosures.' || OLD.state;
        END;
        """,
    ])

    /// Subject keys live in their own file, so that a copy of the main database cannot be read
    /// once a subject's key is deleted (crypto-shredding), and in rollback-journal mode with
    /// secure_delete, so that a deleted key leaves no copy in a WAL or free page.
    static let keys = SQLiteMigrator([
        """
        CREATE TABLE subject_keys (
            subject_id TEXT PRIMARY KEY,
            wrapped BLOB NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
        """,
        // Blind indexes for finding a subject (issue 10): keyed digests of what a subject access
        // request names, beside the keys so that erasing a subject leaves no copy (secure_delete,
        // no WAL). `referral_id` ties each to the referral it came from (rectification replaces them).
        // Not WITHOUT ROWID: SQLite 3.40's quick_check wrongly reports NULLs in such STRICT tables.
        """
        CREATE TABLE subject_index (
            kind TEXT NOT NULL,
            digest BLOB NOT NULL,
            subject_id TEXT NOT NULL,
            referral_id TEXT NOT NULL,
            PRIMARY KEY (kind, digest, referral_id)
        ) STRICT;
        CREATE INDEX subject_index_subject ON subject_index(subject_id);
        CREATE INDEX subject_index_referral ON subject_index(referral_id);
        -- Referrals stored before this migration are indexed by the first search (Exchange.backfillSubjectIndex);
        -- the row holds how far it got and goes when it is done.
        CREATE TABLE subject_index_backfill (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            after_referral TEXT NOT NULL
        ) STRICT;
        INSERT INTO subject_index_backfill (id, after_referral) VALUES (1, '');
        """,
        """
        CREATE TABLE store_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            store_id TEXT NOT NULL,
            key_check TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            probed_at INTEGER
        ) STRICT;
        """,
    ])
}
