/* err.h — the one error enum of the sensor and its strerror-like name. */
#ifndef SW_COMMON_ERR_H
#define SW_COMMON_ERR_H

/* Functions return 0 or one of these (always negative). */
enum sw_err {
	SW_OK = 0,
	SW_ETRUNC = -1,      /* input ends before a field it declares */
	SW_EMALFORMED = -2,  /* a field holds a value the protocol forbids */
	SW_ELOOP = -3,       /* DNS compression pointer loop or forward pointer */
	SW_ETOOLONG = -4,    /* a label, name or message past its limit */
	SW_ENOMEM = -5,      /* allocation failed (start-up only) */
	SW_EFULL = -6,       /* a bounded table or buffer is full */
	SW_ERANGE = -7,      /* a value outside its allowed range (config) */
	SW_EINVAL = -8,      /* an argument or config value that cannot be used */
	SW_EIO = -9,         /* a read or write on a file or socket failed */
	SW_EUNSUPP = -10,    /* a link type, version or feature not handled */
	SW_EINCOMPLETE = -11 /* more bytes are needed (stream reassembly) */
};

/* A short fixed English phrase for an error code; never NULL. */
const char *sw_strerror(int err);

#endif
