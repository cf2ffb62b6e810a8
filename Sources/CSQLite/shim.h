#include <sqlite3.h>

/// Turns off SQLite's memory statistics, which take a global mutex on every allocation.
/// `sqlite3_config` is variadic, so Swift cannot call it; it only works before the library is
/// initialised (the first connection opened), and returns SQLITE_MISUSE afterwards.
static inline int aftersale_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
