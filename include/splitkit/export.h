/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbol exports between splitkit modules.
 *
 * Every symbol one splitkit module offers another lives in the SPLITKIT
 * symbol namespace, so no module outside the project binds to them by
 * accident.  Linux 6.13 changed the namespace argument of
 * EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS() from a bare token to a string
 * literal; the top-level Kbuild probes <linux/export.h> and defines
 * SPLITKIT_NS_IS_STRING when the string form is needed.
 */
#ifndef _SPLITKIT_EXPORT_H
#define _SPLITKIT_EXPORT_H

#include <linux/export.h>
#include <linux/module.h>

#ifdef SPLITKIT_NS_IS_STRING
#define SPLITKIT_EXPORT(sym)	EXPORT_SYMBOL_NS_GPL(sym, "SPLITKIT")
#define SPLITKIT_IMPORT_NS()	MODULE_IMPORT_NS("SPLITKIT")
#else
#define SPLITKIT_EXPORT(sym)	EXPORT_SYMBOL_NS_GPL(sym, SPLITKIT)
#define SPLITKIT_IMPORT_NS()	MODULE_IMPORT_NS(SPLITKIT)
#endif

#endif /* _SPLITKIT_EXPORT_H */
