/* runtime/base/error.c: rf_strerror for ringfold's codes and -errno. */
#include <string.h>

#include "ringfold/base.h"

static const struct {
	int code;
	const char *text;
} error_names[] = {
    {RF_ETOPOLOGY,
     "RF_ETOPOLOGY: bad topology (RF_TOPOLOGY malformed or outside the affinity mask)"},
    {RF_ESHUTDOWN, "RF_ESHUTDOWN: rejected, shut down"},
    {RF_ESTARTED, "RF_ESTARTED: runtime already started"},
    {RF_ENOURING, "RF_ENOURING: io_uring is not available"},
    {RF_ECONFIG, "RF_ECONFIG: malformed configuration (RF_* variable or rf_config field)"},
    {RF_EDELIVERED, "RF_EDELIVERED: promise already delivered"},
    {RF_ERECURSIVE, "RF_ERECURSIVE: delay dereferenced from its own body"},
    {RF_EABANDONED, "RF_EABANDONED: deferred freed before it was realized"},
    {RF_EVALIDATOR, "RF_EVALIDATOR: invalid reference state (validator rejected)"},
    {RF_ENOTOWNER, "RF_ENOTOWNER: lock not held by the caller"},
    {RF_ENOTX, "RF_ENOTX: no transaction running"},
    {RF_ERETRYLIMIT, "RF_ERETRYLIMIT: transaction failed after reaching retry limit"},
    {RF_ECOMMUTESET, "RF_ECOMMUTESET: can't set after commute"},
    {RF_EIOINTX, "RF_EIOINTX: I/O in transaction"},
    {RF_ENOTDYNAMIC, "RF_ENOTDYNAMIC: can't dynamically bind non-dynamic var"},
    {RF_ENOTBOUND, "RF_ENOTBOUND: can't set a var that is not thread-bound"},
    {RF_ETXRETRY, "RF_ETXRETRY: transaction must retry (return it from the body)"},
    {RF_ENOTBINDER, "RF_ENOTBINDER: can't set a binding from a non-binding context"},
    {RF_EAGENTFAILED, "RF_EAGENTFAILED: agent is failed, needs restart"},
    {RF_EAGENTOK, "RF_EAGENTOK: agent does not need a restart"},
    {RF_EAWAITINACTION, "RF_EAWAITINACTION: can't await in agent action or transaction"},
    {RF_ECLOSED, "RF_ECLOSED: channel closed"},
    {RF_EPENDINGLIMIT, "RF_EPENDINGLIMIT: too many pending puts or takes on one channel"},
    {RF_ENOTINPOOL, "RF_ENOTINPOOL: fork/join outside a pool task"},
    {RF_EEND, "RF_EEND: no more elements"},
};

const char *rf_strerror(int code)
{
	if (code == 0)
		return "success";
	for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
		if (error_names[i].code == code)
			return error_names[i].text;
	if (code < 0 && code > -4096)
		return strerror(-code); /* glibc's table: static storage, never NULL */
	return "unknown ringfold error";
}
