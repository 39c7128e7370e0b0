/* SPDX-License-Identifier: MPL-2.0 */
/* Writes the Kea fragment (migrate_kea.h). Strings are JSON-escaped; only
 * parameters that differ from the hook's defaults or were found are
 * written, so the fragment says what the dhcpd.conf said. */
#include "tools/migrate/migrate_kea.h"

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_member(FILE *out, const char *indent, const char *name, const char *value,
			bool last)
{
	fprintf(out, "%s", indent);
	json_string(out, name);
	fputs(": ", out);
	json_string(out, value);
	fputs(last ? "\n" : ",\n", out);
}

int migrate_kea_write(FILE *out, const struct migrate_plan *p, const char *sets_directory,
		      const char *library)
{
	static const char in[] = "          ";
	fputs("{\n  \"Dhcp4\": {\n    \"hooks-libraries\": [\n      {\n", out);
	fputs("        \"library\": ", out);
	json_string(out, library);
	fputs(",\n        \"parameters\": {\n", out);
	json_member(out, in, "sets-directory", sets_directory, false);
	if (p->server_address[0])
		json_member(out, in, "server-address", p->server_address, false);
	if (p->http_url[0])
		json_member(out, in, "http-url", p->http_url, false);
	if (p->nfs_url[0])
		json_member(out, in, "nfs-url", p->nfs_url, false);
	if (p->has_priority)
		fprintf(out, "%s\"server-priority\": %u,\n", in, p->priority);
	json_member(out, in, "tftp-path-prefix", p->tftp_path_prefix, true);
	fputs("        }\n      }\n    ],\n    \"reservations\": [", out);
	for (size_t i = 0; i < p->n_pins; i++) {
		const struct migrate_pin *pin = &p->pins[i];
		fputs(i ? ",\n      { " : "\n      { ", out);
		fputs("\"hw-address\": ", out);
		json_string(out, pin->mac);
		fputs(", \"hostname\": ", out);
		json_string(out, pin->hostname);
		fprintf(out, ", \"user-context\": { \"bsdp-image\": %u } }", pin->index);
	}
	fputs(p->n_pins ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", out);
	return ferror(out) ? -1 : 0;
}
