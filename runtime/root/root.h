/* runtime/root/root.h: what the composition root's files share (internal to root/). */
#ifndef RF_ROOT_ROOT_H
#define RF_ROOT_ROOT_H

/* Write rf_stats as JSON to RF_STATS_DUMP, if set (stats.c). Plain thread. */
void root_stats_dump(void);

/* Once RF_STATS_DUMP is set: dump again at exit if the runtime still runs then. */
void root_stats_dump_at_exit(void);

#endif
