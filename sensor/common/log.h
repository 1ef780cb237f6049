/* log.h — the sensor's own messages on stderr (not events). */
#ifndef SW_COMMON_LOG_H
#define SW_COMMON_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above this level are not printed; -q and -v move it. */
void log_set_level(int level);
int log_get_level(void);

/* Prints "stubwatch: <level>: message\n" to stderr. */
void sw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) sw_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) sw_log(LOG_WARN, __VA_ARGS__)
#define log_info(...) sw_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) sw_log(LOG_DEBUG, __VA_ARGS__)

#endif
