/* modules.c — the detect modules the engine runs, in the order it calls them
 * (engine_int.h, "detect modules"). */
#include "detect/engine_int.h"
#include "detect/encrypted.h"
#include "detect/behaviour.h"
#include "detect/integrity.h"
#include "detect/custom.h"

const struct eng_module *const eng_modules[] = {
	&mod_encrypted,
	&mod_behaviour,
	&mod_integrity,
	&mod_custom,
	NULL
};
