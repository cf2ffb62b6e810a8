#include <libpq-fe.h>

// The PG_DIAG_* field codes are character macros ('C', 'M', ...), which Swift does not import
// as integers; these constants carry them across.
static const int aftersale_pg_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int aftersale_pg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int aftersale_pg_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
static const int aftersale_pg_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME;
static const int aftersale_pg_diag_severity_nonlocalized = PG_DIAG_SEVERITY_NONLOCALIZED;
