/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzzes the dhcpd.conf reader and the BSDP finder over it: any input
 * either parses (and then BSDP is found, absent, or refused with a reason)
 * or is refused with "fuzz.conf:line: reason" and nothing returned.
 * Includes are refused by dhcpd_conf_parse, so no file is opened. What is
 * found is planned for Kea (migrate_plan: filenames and root paths taken
 * apart) and written as the fragment, into memory. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"
#include "tools/migrate/migrate_kea.h"
#include "tools/migrate/migrate_plan.h"

static void check_message(const char *err)
{
	if (strncmp(err, "fuzz.conf:", 10) != 0 || !err[10])
		abort(); /* every refusal names the file and says why */
}

static void plan_and_write(const struct dhcpd_conf *conf, const struct bsdp_find_result *res)
{
	struct migrate_plan *plan = malloc(sizeof(*plan));
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!plan || !f)
		abort();
	migrate_plan_make(conf, res, plan);
	if (plan->n_images != res->n_images)
		abort(); /* one set per image */
	if (migrate_kea_write(f, plan, "/srv/netboot/sets", "/l.so") < 0)
		abort();
	fclose(f);
	free(text);
	free(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	if (dhcpd_conf_parse("fuzz.conf", (const char *)data, size, &conf, err, sizeof(err)) < 0) {
		if (conf)
			abort(); /* no partial result */
		check_message(err);
		return 0;
	}
	struct bsdp_find_result *res = malloc(sizeof(*res));
	if (!res)
		abort();
	err[0] = '\0';
	int r = bsdp_find(conf, res, err, sizeof(err));
	if (r == -EINVAL)
		check_message(err);
	else if (r == 0 && res->n_images == 0)
		abort(); /* found means at least one image */
	else if (r != 0 && r != -ENOENT && r != -ENOMEM)
		abort();
	if (r == 0)
		plan_and_write(conf, res);
	free(res);
	dhcpd_conf_free(conf);
	return 0;
}
