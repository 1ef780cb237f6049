/* err.c — names of the sensor's error codes. */
#include "common/err.h"

const char *sw_strerror(int err)
{
	switch (err) {
	case SW_OK: return "success";
	case SW_ETRUNC: return "truncated input";
	case SW_EMALFORMED: return "malformed input";
	case SW_ELOOP: return "compression pointer loop or forward pointer";
	case SW_ETOOLONG: return "label, name or message too long";
	case SW_ENOMEM: return "out of memory";
	case SW_EFULL: return "table or buffer full";
	case SW_ERANGE: return "value out of range";
	case SW_EINVAL: return "invalid argument";
	case SW_EIO: return "input/output error";
	case SW_EUNSUPP: return "not supported";
	case SW_EINCOMPLETE: return "incomplete, more input needed";
	}
	return "unknown error";
}
