/*
 * The storage program for refex's intake write pattern (issue 17): the writes refex's SQLite
 * writer makes per referral, on a store made by `refex store init` (so its tables, indexes and
 * migrations are the real ones), committed in groups of N, with no HTTP, TLS, parsing,
 * validation, hashing or sealing.
 *
 * Per referral (a new subject whose key was made ahead; consent for one of two requested
 * services; the benchmark's recipients), in the order Exchange.submitReferral and
 * SQLiteTransaction make them, main database only:
 *   SELECT the referral by (partner, keyed reference)      idempotency (a miss)
 *   INSERT subjects                                         the key was committed ahead
 *   INSERT referrals (sealed body 1.4–3.0 KB, empty receipt)
 *   INSERT subject_index_pending                            only while that table exists
 *   INSERT log_entries referral.received
 *   INSERT consents; INSERT log_entries consent.recorded
 *   SELECT the subject's consents
 *   INSERT disclosures (queued); INSERT outbox; INSERT log_entries disclosure.authorised
 *   INSERT disclosures (awaiting consent); INSERT log_entries disclosure.withheld
 *   UPDATE referrals SET receipt (455 B)
 * Per group: BEGIN IMMEDIATE, SELECT the chain head, the jobs with no savepoint, SELECT the
 * latest checkpoint (and INSERT one every 1,000 entries, as refex's default policy), DELETE the
 * waiting ids the keys thread has indexed (while subject_index_pending exists), COMMIT.
 * Beside it, as refex's KeysCommitter on its own connection and thread: the blind-index entries
 * (3 per referral) committed to the keys database at most every --index-delay-ms, and subject keys
 * stored ahead 256 at a time when no more than 128 are left (a referral finding none makes its
 * own, committed in the keys database in its group, as refex does). A PASSIVE WAL checkpoint
 * every 500 ms (100 ms when more than 1,024 frames behind or past 32 MiB held) on its own connection, which past 64 MiB
 * held in the WAL runs a second round and asks the writer to fold the rest (the writer folds
 * unasked past 128 MiB), as refex.
 * Settings as refex's writer: main WAL, synchronous=FULL, foreign_keys, secure_delete,
 * cache_size -65536, temp_store=MEMORY, wal_autocheckpoint=0, journal_size_limit 128 MiB; keys
 * journal_mode=TRUNCATE, synchronous=FULL, secure_delete, temp_store=MEMORY. Row contents are
 * random bytes or text of the sizes refex writes; ids are version-7 UUIDs like refex's.
 *
 *   store_pattern --store FILE --keys FILE --group N [--seconds S] [--warmup S] [--index-delay-ms MS]
 *   store_pattern --store FILE --keys FILE --group N --breakdown COMMITS [--warmup-referrals N]
 * The first prints one JSON line: referrals/s, commits, commit p50/p99, CPU per referral, and
 * pages (WAL frames) per commit and per referral. --breakdown runs no checkpoints: it commits
 * --warmup-referrals referrals (default 400) in groups of N, empties the WAL, makes COMMITS
 * commits, then reads the WAL's frames and names the table or index each page belongs to
 * (dbstat): pages per commit by b-tree, as JSON. Build: gcc -O2 -o store_pattern store_pattern.c -lsqlite3 -lpthread
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "store_pattern: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "store_pattern: %s: %s\n", sql, error ? error : "");
        exit(1);
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int64_t wall_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* xorshift, one state per thread */
static uint64_t rnd(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *state = x;
}

static void fill(uint64_t *state, unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = rnd(state);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
}

static void text(uint64_t *state, char *out, size_t n) {
    static const char *alphabet = "abcdefghijklmnopqrstuvwxyz/\",:0123456789";
    for (size_t i = 0; i < n; i++) out[i] = alphabet[rnd(state) % 40];
    out[n] = 0;
}

static void hex(uint64_t *state, char *out, size_t digits) {
    static const char *h = "0123456789abcdef";
    for (size_t i = 0; i < digits; i++) out[i] = h[rnd(state) & 15];
    out[digits] = 0;
}

/* refex's SecureRandom.uuid: 48 bits of milliseconds, version 7, then random. */
static void uuid7(uint64_t *state, char out[37]) {
    unsigned char b[16];
    int64_t ms = wall_ms();
    for (int i = 0; i < 6; i++) b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    fill(state, b + 6, 10);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) die(db, sql);
    return s;
}

static void run(sqlite3 *db, sqlite3_stmt *s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) die(db, sqlite3_sql(s));
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int has_table(sqlite3 *db, const char *name) {
    sqlite3_stmt *s = prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- What the writer hands the keys thread, and what it hands back (refex's KeysCommitter) ---- */

enum { KEY_BATCH = 256, KEY_LOW_WATER = 128, MAX_HANDED = 1 << 16 };

typedef struct {
    char subject[37], referral[37];
    unsigned char digests[3][32];
} IndexJob;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_keys = PTHREAD_COND_INITIALIZER;
static IndexJob handed[MAX_HANDED];
static int handed_count = 0;
static char indexed[MAX_HANDED][37];
static int indexed_count = 0;
static char ready_keys[KEY_BATCH * 2][37];
static int ready_count = 0;
static int refill_wanted = 1, stopping = 0, fold_asked = 0;
static double handed_since = 0;
static const char *keys_path_global, *main_path_global;
static int index_delay_ms = 100;

static void *keys_thread(void *arg) {
    (void)arg;
    uint64_t state = 0x51ED27A3C0FFEEull ^ (uint64_t)wall_ms();
    sqlite3 *keys;
    if (sqlite3_open_v2(keys_path_global, &keys, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(keys, "open keys (keys thread)");
    sqlite3_busy_timeout(keys, 5000);
    exec(keys, "PRAGMA journal_mode = TRUNCATE");
    exec(keys, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;");
    sqlite3_stmt *ins_key = prepare(keys, "INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES (?, ?, ?)");
    sqlite3_stmt *ins_index = prepare(keys,
        "INSERT OR IGNORE INTO subject_index (kind, digest, subject_id, referral_id) "
        "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM subject_keys WHERE subject_id = ?3)");
    static const char *kinds[3] = {"reference", "name-dob", "crime-reference"};
    static IndexJob batch[MAX_HANDED];
    for (;;) {
        pthread_mutex_lock(&lock);
        /* Entries wait up to the delay from the first handed over, to share one commit (refex's indexDelay). */
        while (!stopping && !refill_wanted && (handed_count == 0 || now_s() < handed_since + index_delay_ms / 1000.0)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long step = handed_count ? (long)((handed_since + index_delay_ms / 1000.0 - now_s()) * 1e9) : 50000000L;
            if (step < 0) step = 0;
            until.tv_nsec += step;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&wake_keys, &lock, &until);
        }
        int refill = refill_wanted, done = stopping;
        int count = 0;
        if (handed_count && (done || now_s() >= handed_since + index_delay_ms / 1000.0)) {
            count = handed_count;
            memcpy(batch, handed, sizeof(IndexJob) * (size_t)count);
            handed_count = 0;
        }
        pthread_mutex_unlock(&lock);
        if (refill) {
            /* Keys made ahead: one commit of 256 (refex wraps each key; 60 bytes stored). */
            char made[KEY_BATCH][37];
            unsigned char wrapped[60];
            int64_t now = wall_ms();
            exec(keys, "BEGIN IMMEDIATE");
            for (int i = 0; i < KEY_BATCH; i++) {
                uuid7(&state, made[i]);
                fill(&state, wrapped, sizeof wrapped);
                sqlite3_bind_text(ins_key, 1, made[i], 36, SQLITE_STATIC);
                sqlite3_bind_blob(ins_key, 2, wrapped, sizeof wrapped, SQLITE_STATIC);
                sqlite3_bind_int64(ins_key, 3, now);
                run(keys, ins_key);
            }
            exec(keys, "COMMIT");
            pthread_mutex_lock(&lock);
            for (int i = 0; i < KEY_BATCH && ready_count < KEY_BATCH * 2; i++) memcpy(ready_keys[ready_count++], made[i], 37);
            refill_wanted = 0;
            pthread_mutex_unlock(&lock);
        }
        if (count) {
            exec(keys, "BEGIN IMMEDIATE");
            for (int i = 0; i < count; i++) {
                for (int k = 0; k < 3; k++) {
                    sqlite3_bind_text(ins_index, 1, kinds[k], -1, SQLITE_STATIC);
                    sqlite3_bind_blob(ins_index, 2, batch[i].digests[k], 32, SQLITE_STATIC);
                    sqlite3_bind_text(ins_index, 3, batch[i].subject, 36, SQLITE_STATIC);
                    sqlite3_bind_text(ins_index, 4, batch[i].referral, 36, SQLITE_STATIC);
                    run(keys, ins_index);
                }
            }
            exec(keys, "COMMIT");
            pthread_mutex_lock(&lock);
            for (int i = 0; i < count && indexed_count < MAX_HANDED; i++) memcpy(indexed[indexed_count++], batch[i].referral, 37);
            pthread_mutex_unlock(&lock);
        }
        if (done && !count) break;
    }
    sqlite3_finalize(ins_key);
    sqlite3_finalize(ins_index);
    sqlite3_close(keys);
    return NULL;
}

/* ---- WAL checkpoints beside the writer, as refex's checkpointer ---- */


static void *checkpointer(void *arg) {
    (void)arg;
    sqlite3 *db;
    if (sqlite3_open_v2(main_path_global, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(db, "open checkpointer");
    exec(db, "PRAGMA synchronous = FULL");
    sqlite3_stmt *cp = prepare(db, "PRAGMA wal_checkpoint(PASSIVE)");
    useconds_t pause = 500000;
    for (;;) {
        pthread_mutex_lock(&lock);
        int done = stopping;
        pthread_mutex_unlock(&lock);
        if (done) break;
        usleep(pause);
        long long behind = 0, frames = 0;
        if (sqlite3_step(cp) == SQLITE_ROW) {
            frames = sqlite3_column_int64(cp, 1);
            behind = frames - sqlite3_column_int64(cp, 2);
        }
        sqlite3_reset(cp);
        /* refex: past 64 MiB held in the WAL, a second round, then ask the writer to fold the rest. */
        if (frames * (4096 + 24) > (64LL << 20)) {
            if (sqlite3_step(cp) == SQLITE_ROW) behind = sqlite3_column_int64(cp, 1) - sqlite3_column_int64(cp, 2);
            sqlite3_reset(cp);
            pthread_mutex_lock(&lock);
            fold_asked = 1;
            pthread_mutex_unlock(&lock);
        }
        pause = behind > 1024 || frames * (4096 + 24) > (32LL << 20) ? 100000 : 500000;
    }
    sqlite3_finalize(cp);
    sqlite3_close(db);
    return NULL;
}

/* ---- The writer ---- */

typedef struct {
    sqlite3 *db, *keys;
    int pending_table;
    sqlite3_stmt *head, *find, *ins_subject, *ins_referral, *ins_pending, *ins_log, *ins_consent, *sel_consents,
        *ins_disclosure, *ins_outbox, *upd_receipt, *latest_cp, *ins_cp, *del_pending, *ins_own_key;
    int64_t seq, last_cp_seq;
    uint64_t state;
    long referrals;
} Writer;

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v) {
    if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT); else sqlite3_bind_null(s, i);
}

static void append_log(Writer *w, int64_t now, const char *event, const char *referral, const char *subject,
                       const char *disclosure, const char *recipient, const char *basis, size_t entry_bytes) {
    char entry[1400], hash[65];
    text(&w->state, entry, entry_bytes);
    hex(&w->state, hash, 64);
    sqlite3_stmt *s = w->ins_log;
    sqlite3_bind_int64(s, 1, ++w->seq);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_text(s, 3, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, "police", -1, SQLITE_STATIC);
    bind_text_or_null(s, 5, referral);
    bind_text_or_null(s, 6, subject);
    bind_text_or_null(s, 7, disclosure);
    bind_text_or_null(s, 8, recipient);
    bind_text_or_null(s, 9, basis);
    sqlite3_bind_blob(s, 10, entry, (int)entry_bytes, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, hash, 64, SQLITE_STATIC);
    run(w->db, s);
}

/* One referral, as the intake write makes it. Returns whether the keys database was written. */
static int referral(Writer *w, IndexJob *job) {
    int64_t now = wall_ms();
    int shape = (int)(w->referrals++ % 3);
    static const size_t sealed_bytes[3] = {1380, 2200, 3020};
    unsigned char reference_key[32], digest[32], sealed[3100], receipt[455], details[118];
    char subject[37], referral_id[37], consent[37], disclosure1[37], disclosure2[37], pointers1[700], pointers2[240];
    fill(&w->state, reference_key, 32);
    fill(&w->state, digest, 32);
    fill(&w->state, sealed, sealed_bytes[shape]);
    fill(&w->state, receipt, sizeof receipt);
    fill(&w->state, details, sizeof details);
    uuid7(&w->state, referral_id);
    int own_key = 0;
    pthread_mutex_lock(&lock);
    if (ready_count > 0) memcpy(subject, ready_keys[--ready_count], 37);
    else own_key = 1;
    if (ready_count <= KEY_LOW_WATER && !refill_wanted) { refill_wanted = 1; pthread_cond_signal(&wake_keys); }
    pthread_mutex_unlock(&lock);
    if (own_key) {
        /* No key ready: the referral makes its own, committed in the keys database in this group. */
        unsigned char wrapped[60];
        uuid7(&w->state, subject);
        fill(&w->state, wrapped, sizeof wrapped);
        if (sqlite3_get_autocommit(w->keys)) exec(w->keys, "BEGIN IMMEDIATE");
        sqlite3_bind_text(w->ins_own_key, 1, subject, 36, SQLITE_STATIC);
        sqlite3_bind_blob(w->ins_own_key, 2, wrapped, sizeof wrapped, SQLITE_STATIC);
        sqlite3_bind_int64(w->ins_own_key, 3, now);
        run(w->keys, w->ins_own_key);
    }
    sqlite3_bind_text(w->find, 1, "police", -1, SQLITE_STATIC);
    sqlite3_bind_blob(w->find, 2, reference_key, 32, SQLITE_STATIC);
    run(w->db, w->find);
    sqlite3_bind_text(w->ins_subject, 1, subject, 36, SQLITE_STATIC);
    sqlite3_bind_int64(w->ins_subject, 2, now);
    sqlite3_bind_int(w->ins_subject, 3, 0);
    sqlite3_bind_null(w->ins_subject, 4);
    run(w->db, w->ins_subject);
    sqlite3_stmt *r = w->ins_referral;
    sqlite3_bind_text(r, 1, referral_id, 36, SQLITE_STATIC);
    sqlite3_bind_text(r, 2, "police", -1, SQLITE_STATIC);
    sqlite3_bind_blob(r, 3, reference_key, 32, SQLITE_STATIC);
    sqlite3_bind_text(r, 4, subject, 36, SQLITE_STATIC);
    sqlite3_bind_text(r, 5, "urn:refex:schema:referral:1", -1, SQLITE_STATIC);
    sqlite3_bind_blob(r, 6, digest, 32, SQLITE_STATIC);
    sqlite3_bind_blob(r, 7, sealed, (int)sealed_bytes[shape], SQLITE_STATIC);
    sqlite3_bind_int64(r, 8, now);
    sqlite3_bind_blob(r, 9, "", 0, SQLITE_STATIC);
    run(w->db, r);
    if (w->pending_table) {
        sqlite3_bind_text(w->ins_pending, 1, referral_id, 36, SQLITE_STATIC);
        run(w->db, w->ins_pending);
    }
    append_log(w, now, "referral.received", referral_id, subject, NULL, NULL, NULL, 378);
    uuid7(&w->state, consent);
    sqlite3_stmt *c = w->ins_consent;
    sqlite3_bind_text(c, 1, consent, 36, SQLITE_STATIC);
    sqlite3_bind_text(c, 2, subject, 36, SQLITE_STATIC);
    sqlite3_bind_text(c, 3, referral_id, 36, SQLITE_STATIC);
    sqlite3_bind_text(c, 4, "police", -1, SQLITE_STATIC);
    sqlite3_bind_text(c, 5, "[\"domestic-abuse\"]", -1, SQLITE_STATIC);
    sqlite3_bind_text(c, 6, "verbal", -1, SQLITE_STATIC);
    sqlite3_bind_int64(c, 7, now - 86400000);
    sqlite3_bind_blob(c, 8, details, sizeof details, SQLITE_STATIC);
    sqlite3_bind_int64(c, 9, now);
    run(w->db, c);
    append_log(w, now, "consent.recorded", referral_id, subject, NULL, NULL, NULL, 364);
    sqlite3_bind_text(w->sel_consents, 1, subject, 36, SQLITE_STATIC);
    run(w->db, w->sel_consents);
    uuid7(&w->state, disclosure1);
    uuid7(&w->state, disclosure2);
    text(&w->state, pointers1, 650);
    text(&w->state, pointers2, 218);
    for (int d = 0; d < 2; d++) {
        sqlite3_stmt *s = w->ins_disclosure;
        sqlite3_bind_text(s, 1, d ? disclosure2 : disclosure1, 36, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, referral_id, 36, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, subject, 36, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, d ? "victim-support" : "dv-support", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, d ? "general-victim-support" : "domestic-abuse", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, d ? "awaiting-consent" : "queued", -1, SQLITE_STATIC);
        bind_text_or_null(s, 7, d ? NULL : "consent");
        bind_text_or_null(s, 8, d ? NULL : consent);
        sqlite3_bind_null(s, 9);
        sqlite3_bind_text(s, 10, "police", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, d ? pointers2 : pointers1, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 12, d ? "[]" : "[\"health\"]", -1, SQLITE_STATIC);
        bind_text_or_null(s, 13, d ? "awaiting-consent" : NULL);
        sqlite3_bind_int64(s, 14, now);
        sqlite3_bind_int64(s, 15, now);
        run(w->db, s);
        if (!d) {
            sqlite3_stmt *o = w->ins_outbox;
            sqlite3_bind_text(o, 1, disclosure1, 36, SQLITE_STATIC);
            sqlite3_bind_text(o, 2, disclosure1, 36, SQLITE_STATIC);
            sqlite3_bind_int64(o, 3, now);
            sqlite3_bind_int64(o, 4, now);
            run(w->db, o);
            append_log(w, now, "disclosure.authorised", referral_id, subject, disclosure1, "dv-support", "consent", 1143);
        } else {
            append_log(w, now, "disclosure.withheld", referral_id, subject, disclosure2, "victim-support", NULL, 650);
        }
    }
    sqlite3_bind_blob(w->upd_receipt, 1, receipt, sizeof receipt, SQLITE_STATIC);
    sqlite3_bind_text(w->upd_receipt, 2, referral_id, 36, SQLITE_STATIC);
    run(w->db, w->upd_receipt);
    memcpy(job->subject, subject, 37);
    memcpy(job->referral, referral_id, 37);
    for (int k = 0; k < 3; k++) fill(&w->state, job->digests[k], 32);
    return own_key;
}

/* One group commit of `group` referrals; returns the pages it wrote (both files). */
static long commit_group(Writer *w, int group) {
    static IndexJob jobs[4096];
    static char clear[MAX_HANDED][37];
    exec(w->db, "BEGIN IMMEDIATE");
    if (sqlite3_step(w->head) == SQLITE_ROW) w->seq = sqlite3_column_int64(w->head, 0);
    sqlite3_reset(w->head);
    for (int j = 0; j < group; j++) referral(w, &jobs[j]);
    /* refex's checkpoint policy: the latest checkpoint read, one signed every 1,000 entries. */
    if (sqlite3_step(w->latest_cp) == SQLITE_ROW) w->last_cp_seq = sqlite3_column_int64(w->latest_cp, 0);
    sqlite3_reset(w->latest_cp);
    if (w->seq - w->last_cp_seq >= 1000) {
        char hash[65];
        unsigned char signature[64];
        hex(&w->state, hash, 64);
        fill(&w->state, signature, 64);
        sqlite3_bind_int64(w->ins_cp, 1, w->seq);
        sqlite3_bind_text(w->ins_cp, 2, hash, 64, SQLITE_STATIC);
        sqlite3_bind_int64(w->ins_cp, 3, wall_ms());
        sqlite3_bind_blob(w->ins_cp, 4, signature, 64, SQLITE_STATIC);
        run(w->db, w->ins_cp);
    }
    int cleared = 0;
    pthread_mutex_lock(&lock);
    if (w->pending_table) {
        cleared = indexed_count;
        memcpy(clear, indexed, sizeof(clear[0]) * (size_t)cleared);
    }
    indexed_count = 0;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < cleared; i++) {
        sqlite3_bind_text(w->del_pending, 1, clear[i], 36, SQLITE_STATIC);
        run(w->db, w->del_pending);
    }
    if (!sqlite3_get_autocommit(w->keys)) exec(w->keys, "COMMIT");
    exec(w->db, "COMMIT");
    int current = 0, highest = 0;
    long pages = 0;
    sqlite3_db_status(w->db, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, 1);
    pages += current;
    sqlite3_db_status(w->keys, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highest, 1);
    pages += current;
    pthread_mutex_lock(&lock);
    if (handed_count == 0) handed_since = now_s();
    for (int j = 0; j < group && handed_count < MAX_HANDED; j++) handed[handed_count++] = jobs[j];
    pthread_cond_signal(&wake_keys);
    pthread_mutex_unlock(&lock);
    return pages;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Pages per commit by b-tree: the WAL's frames since it was emptied, named through dbstat. */
static void breakdown(Writer *w, const char *main_path, int commits, int group) {
    char wal_path[4200];
    snprintf(wal_path, sizeof wal_path, "%s-wal", main_path);
    FILE *f = fopen(wal_path, "rb");
    if (!f) die(NULL, "open the WAL");
    unsigned char header[32];
    if (fread(header, 1, 32, f) != 32) die(NULL, "read the WAL header");
    uint32_t page_size = (uint32_t)header[8] << 24 | (uint32_t)header[9] << 16 | (uint32_t)header[10] << 8 | header[11];
    unsigned char *frame = malloc(24 + page_size);
    size_t capacity = 1 << 20, count = 0;
    uint32_t *pages = malloc(capacity * sizeof(uint32_t));
    long frames = 0, commit_frames = 0;
    while (fread(frame, 1, 24 + page_size, f) == 24 + page_size) {
        /* Frames of this WAL generation only (its salts). */
        if (memcmp(frame + 8, header + 16, 8) != 0) break;
        uint32_t page = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 | frame[3];
        uint32_t size_after = (uint32_t)frame[4] << 24 | (uint32_t)frame[5] << 16 | (uint32_t)frame[6] << 8 | frame[7];
        if (count < capacity) pages[count++] = page;
        frames++;
        if (size_after) commit_frames++;
    }
    fclose(f);
    free(frame);
    qsort(pages, count, sizeof(uint32_t), cmp_u32);
    /* name -> frames */
    sqlite3_stmt *s = prepare(w->db, "SELECT name FROM dbstat WHERE pageno = ?");
    typedef struct { char name[128]; long frames; } Tally;
    Tally tallies[256];
    int tally_count = 0;
    for (size_t i = 0; i < count;) {
        size_t j = i;
        while (j < count && pages[j] == pages[i]) j++;
        char name[128] = "(free page)";
        if (pages[i] == 1) snprintf(name, sizeof name, "(page 1: the header)");
        sqlite3_bind_int64(s, 1, pages[i]);
        if (pages[i] != 1 && sqlite3_step(s) == SQLITE_ROW) snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        int t = 0;
        while (t < tally_count && strcmp(tallies[t].name, name)) t++;
        if (t == tally_count && tally_count < 256) { snprintf(tallies[t].name, sizeof tallies[t].name, "%s", name); tallies[t].frames = 0; tally_count++; }
        if (t < 256) tallies[t].frames += (long)(j - i);
        i = j;
    }
    sqlite3_finalize(s);
    free(pages);
    printf("{\"group\":%d,\"commits\":%d,\"walFrames\":%ld,\"commitFrames\":%ld,\"pagesPerCommit\":%.2f,\"pagesPerReferral\":%.2f,\"byBTree\":{",
           group, commits, frames, commit_frames, (double)frames / commits, (double)frames / commits / group);
    for (int pass = 0; pass < tally_count; pass++) {
        /* largest first */
        int best = -1;
        for (int t = 0; t < tally_count; t++) if (tallies[t].frames >= 0 && (best < 0 || tallies[t].frames > tallies[best].frames)) best = t;
        printf("%s\"%s\":%.2f", pass ? "," : "", tallies[best].name, (double)tallies[best].frames / commits);
        tallies[best].frames = -1;
    }
    printf("}}\n");
}

static void usage(void) {
    fprintf(stderr,
        "usage: store_pattern --store FILE --keys FILE --group N [--seconds S] [--warmup S] [--index-delay-ms MS]\n"
        "       store_pattern --store FILE --keys FILE --group N --breakdown COMMITS [--warmup-referrals N]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *main_path = NULL, *keys_path = NULL;
    int group = 1, breakdown_commits = 0;
    long warmup_referrals = 400;
    double seconds = 10, warmup = 1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--store")) main_path = argv[i + 1];
        else if (!strcmp(argv[i], "--keys")) keys_path = argv[i + 1];
        else if (!strcmp(argv[i], "--group")) group = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--index-delay-ms")) index_delay_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--breakdown")) breakdown_commits = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup-referrals")) warmup_referrals = atol(argv[i + 1]);
        else usage();
    }
    if (!main_path || !keys_path || group < 1 || group > 4096 || seconds <= 0 || index_delay_ms < 0 || breakdown_commits < 0) usage();
    if (file_size(main_path) == 0 || file_size(keys_path) == 0) {
        fprintf(stderr, "store_pattern: %s and %s must be a store made by `refex store init`\n", main_path, keys_path);
        return 2;
    }
    main_path_global = main_path;
    keys_path_global = keys_path;

    Writer w = {0};
    w.state = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() * 0x100000001B3ull ^ (uint64_t)wall_ms();
    if (sqlite3_open_v2(main_path, &w.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(w.db, "open the store");
    if (sqlite3_open_v2(keys_path, &w.keys, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(w.keys, "open the keys");
    sqlite3_busy_timeout(w.db, 5000);
    sqlite3_busy_timeout(w.keys, 5000);
    exec(w.db, "PRAGMA journal_mode = WAL");
    exec(w.db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA cache_size = -65536; "
               "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 134217728;");
    exec(w.keys, "PRAGMA journal_mode = TRUNCATE");
    exec(w.keys, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;");
    if (!has_table(w.db, "log_entries") || !has_table(w.keys, "subject_keys")) {
        fprintf(stderr, "store_pattern: %s is not a refex store\n", main_path);
        return 2;
    }
    w.pending_table = has_table(w.db, "subject_index_pending");
    w.head = prepare(w.db, "SELECT seq, hash FROM log_entries ORDER BY seq DESC LIMIT 1");
    w.find = prepare(w.db, "SELECT id, partner_id, reference_key, subject_id, schema_id, body_digest, sealed_body, received_at, receipt FROM referrals WHERE partner_id = ? AND reference_key = ?");
    w.ins_subject = prepare(w.db, "INSERT INTO subjects (id, created_at, restricted, erased_at) VALUES (?, ?, ?, ?)");
    w.ins_referral = prepare(w.db, "INSERT INTO referrals (id, partner_id, reference_key, subject_id, schema_id, body_digest, sealed_body, received_at, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (w.pending_table) {
        w.ins_pending = prepare(w.db, "INSERT OR IGNORE INTO subject_index_pending (referral_id) VALUES (?)");
        w.del_pending = prepare(w.db, "DELETE FROM subject_index_pending WHERE referral_id = ?");
    }
    w.ins_log = prepare(w.db, "INSERT INTO log_entries (seq, time, event, actor, referral_id, subject_id, disclosure_id, recipient_id, lawful_basis, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    w.ins_consent = prepare(w.db,
        "INSERT INTO consents (id, subject_id, referral_id, partner_id, purposes, recipients, method, obtained_at, expires_at, withdrawn_at, sealed_details, "
        "recorded_at, document_digest, receipt, withdrawal_receipt) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, ?, ?, NULL, NULL, NULL)");
    w.sel_consents = prepare(w.db,
        "SELECT id, subject_id, referral_id, partner_id, purposes, recipients, method, obtained_at, expires_at, withdrawn_at, sealed_details, recorded_at, "
        "document_digest, receipt, withdrawal_receipt FROM consents WHERE subject_id = ? ORDER BY recorded_at");
    w.ins_disclosure = prepare(w.db,
        "INSERT INTO disclosures (id, referral_id, subject_id, recipient_id, service, state, lawful_basis, consent_id, justification_digest, actor, pointers, "
        "categories, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    w.ins_outbox = prepare(w.db,
        "INSERT OR REPLACE INTO outbox (id, kind, disclosure_id, recipient_id, mode, payload, state, enqueued_at, next_attempt_at, attempts, last_error) "
        "VALUES (?, 'disclosure', ?, 'dv-support', 'pull', NULL, 'pending', ?, ?, 0, NULL)");
    w.upd_receipt = prepare(w.db, "UPDATE referrals SET receipt = ? WHERE id = ?");
    w.latest_cp = prepare(w.db, "SELECT seq, hash, time, signature, key_id FROM checkpoints ORDER BY seq DESC LIMIT 1");
    w.ins_cp = prepare(w.db, "INSERT OR REPLACE INTO checkpoints (seq, hash, time, signature, key_id) VALUES (?, ?, ?, ?, 'store-pattern')");
    w.ins_own_key = prepare(w.keys, "INSERT INTO subject_keys (subject_id, wrapped, created_at) VALUES (?, ?, ?)");

    pthread_t keys_worker, checkpoint_worker;
    pthread_create(&keys_worker, NULL, keys_thread, NULL);
    /* The first keys are made before the first referral, as refex's pool is filled at start. */
    for (;;) {
        pthread_mutex_lock(&lock);
        int ready = ready_count;
        pthread_mutex_unlock(&lock);
        if (ready) break;
        usleep(1000);
    }

    if (breakdown_commits) {
        for (long done = 0; done < warmup_referrals; done += group) commit_group(&w, group);
        /* Let the keys thread index what is handed over, then clear it, so that the measured commits see what a steady run sees. */
        usleep((useconds_t)(index_delay_ms + 50) * 1000);
        commit_group(&w, 1);
        exec(w.db, "PRAGMA wal_checkpoint(TRUNCATE)");
        long pages = 0;
        for (int i = 0; i < breakdown_commits; i++) {
            pages += commit_group(&w, group);
            /* As in a steady run at this rate: the keys thread's reports arrive between commits now and then. */
        }
        fprintf(stderr, "store_pattern: %.2f pages per commit counted by SQLite (SQLITE_DBSTATUS_CACHE_WRITE, both files)\n", (double)pages / breakdown_commits);
        breakdown(&w, main_path, breakdown_commits, group);
    } else {
        pthread_create(&checkpoint_worker, NULL, checkpointer, NULL);
        size_t capacity = 1 << 20, commits = 0;
        double *latency = malloc(capacity * sizeof(double));
        long referrals = 0, pages = 0;
        double start = now_s(), measure_from = start + warmup, end = measure_from + seconds, cpu_at_start = 0, restart_tried = 0;
        int measuring = warmup <= 0;
        if (measuring) cpu_at_start = cpu_seconds();
        char wal_path[4200];
        snprintf(wal_path, sizeof wal_path, "%s-wal", main_path);
        for (;;) {
            double t0 = now_s();
            if (t0 >= end) break;
            if (!measuring && t0 >= measure_from) { measuring = 1; cpu_at_start = cpu_seconds(); }
            long written = commit_group(&w, group);
            double t1 = now_s();
            if (measuring) {
                referrals += group;
                pages += written;
                if (commits < capacity) latency[commits] = t1 - t0;
                commits++;
            }
            /* refex's restartWALIfLarge: the writer folds what is left when the checkpointer asks, or
               on its own past twice 64 MiB, at most ten times a second. */
            if (t1 - restart_tried >= 0.1) {
                pthread_mutex_lock(&lock);
                int asked = fold_asked;
                fold_asked = 0;
                pthread_mutex_unlock(&lock);
                if (asked || file_size(wal_path) > (128LL << 20)) {
                    restart_tried = t1;
                    /* The checkpointer mid-round: tried again after the next commit, the ask kept. */
                    if (sqlite3_wal_checkpoint_v2(w.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_BUSY) {
                        restart_tried = 0;
                        pthread_mutex_lock(&lock);
                        fold_asked |= asked;
                        pthread_mutex_unlock(&lock);
                    }
                }
            }
        }
        double cpu = cpu_seconds() - cpu_at_start;
        size_t n = commits < capacity ? commits : capacity;
        qsort(latency, n, sizeof(double), cmp_double);
        printf("{\"group\":%d,\"seconds\":%.3f,\"referrals\":%ld,\"referralsPerSecond\":%.1f,\"commits\":%zu,\"commitMsP50\":%.3f,\"commitMsP99\":%.3f,"
               "\"cpuSeconds\":%.3f,\"cpuUsPerReferral\":%.1f,\"pagesPerCommit\":%.2f,\"pagesPerReferral\":%.2f,\"pendingTable\":%s,\"walBytes\":%lld}\n",
               group, seconds, referrals, referrals / seconds, commits, n ? latency[n / 2] * 1e3 : 0, n ? latency[(size_t)(n * 0.99)] * 1e3 : 0,
               cpu, referrals ? cpu / referrals * 1e6 : 0, commits ? (double)pages / commits : 0, referrals ? (double)pages / referrals : 0,
               w.pending_table ? "true" : "false", file_size(wal_path));
        free(latency);
    }
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake_keys);
    pthread_mutex_unlock(&lock);
    pthread_join(keys_worker, NULL);
    if (!breakdown_commits) pthread_join(checkpoint_worker, NULL);
    sqlite3_stmt *s;
    while ((s = sqlite3_next_stmt(w.db, NULL)) != NULL) sqlite3_finalize(s);
    while ((s = sqlite3_next_stmt(w.keys, NULL)) != NULL) sqlite3_finalize(s);
    /* As refex does when it stops: the WAL folded in and truncated. */
    exec(w.db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (sqlite3_close(w.db) != SQLITE_OK || sqlite3_close(w.keys) != SQLITE_OK) die(NULL, "close");
    return 0;
}
