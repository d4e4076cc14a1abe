#ifndef REFEX_CLIBPQ_SHIM_H
#define REFEX_CLIBPQ_SHIM_H

#include <libpq-fe.h>

/* Type OIDs refex binds and reads (pg_type.h is a server header, not in libpq-dev). */
static const unsigned int refex_pq_oid_bool = 16;
static const unsigned int refex_pq_oid_bytea = 17;
static const unsigned int refex_pq_oid_int8 = 20;
static const unsigned int refex_pq_oid_int2 = 21;
static const unsigned int refex_pq_oid_int4 = 23;
static const unsigned int refex_pq_oid_text = 25;
static const unsigned int refex_pq_oid_float8 = 701;
static const unsigned int refex_pq_oid_varchar = 1043;

/* PG_DIAG_SQLSTATE and friends are character macros: typed here. */
static inline int refex_pq_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int refex_pq_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }

#endif
