/* ringfold/agent.h: agent family (issue 6): agents. */
#ifndef RINGFOLD_AGENT_H
#define RINGFOLD_AGENT_H

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rf_agent rf_agent;

/* Generic deref (see ringfold.h). */
RF_API int rf_agent_deref(rf_agent *agent, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
