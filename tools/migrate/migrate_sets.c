/* SPDX-License-Identifier: MPL-2.0 */
/* Matching and writing sets (migrate_sets.h). What Kea would answer is
 * asked of the hook's own responder with a SELECT built as a Mac sends it,
 * so the comparison with dhcpd's filename, root path and next-server is
 * the comparison of the two servers' answers. */
#include "tools/migrate/migrate_sets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plist/plist.h>

#include "hook/policy.h"
#include "hook/responder.h"

#define MODEL_I386 "MacBookPro11,1"
#define MODEL_PPC "PowerMac7,3"
#define MODEL_ARM "MacBookPro18,3"
#define CLIENT_ADDRESS 0xc6120064u  /* 198.18.0.100: any ciaddr but 0 */

static const unsigned arch_bits[] = { BSDP_ARCH_I386, BSDP_ARCH_PPC, BSDP_ARCH_ARM };

const struct bsdp_image *migrate_sets_match(const struct bsdp_catalogue *c,
					    const struct migrate_image *im)
{
	return c ? bsdp_catalogue_find(c, im->id) : NULL;
}

static uint32_t address(const char *s)
{
	struct in_addr a;
	return s && inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

static const char *model_of(unsigned arch)
{
	return arch == BSDP_ARCH_PPC ? MODEL_PPC : arch == BSDP_ARCH_ARM ? MODEL_ARM : MODEL_I386;
}

/* The hook's ACK[SELECT] for a Mac of this arch selecting set's image. */
static int kea_select(const struct bsdp_responder *rsp, const struct bsdp_catalogue *c,
		      const struct bsdp_image *set, unsigned arch, uint32_t local,
		      struct bsdp_answer *a)
{
	uint32_t sid = rsp->server_address ? rsp->server_address : local;
	uint8_t opt43[] = { BSDP_OPT_MESSAGE_TYPE, 1, BSDP_MSGTYPE_SELECT,
			    BSDP_OPT_VERSION, 2, 1, 1,
			    BSDP_OPT_SERVER_IDENTIFIER, 4, sid >> 24, sid >> 16, sid >> 8, sid,
			    BSDP_OPT_SELECTED_BOOT_IMAGE, 4, set->id >> 24, set->id >> 16,
			    set->id >> 8, set->id };
	char vc[96];
	const char *model = set->n_enabled_models ? set->enabled_models[0] : model_of(arch);
	int n = snprintf(vc, sizeof(vc), BSDP_VENDOR_CLASS_PREFIX "/%s/%s", bsdp_arch_name(arch),
			 model);
	struct bsdp_query q = {
		.opt43 = opt43, .opt43_len = sizeof(opt43), .opt60 = vc,
		.opt60_len = n > 0 && (size_t)n < sizeof(vc) ? (size_t)n : 0,
		.mac = { 0x02, 0, 0, 0, 0, 1 }, .mac_valid = true, .ciaddr = CLIENT_ADDRESS,
		.local_address = local, .opt57 = -1, .reply_overhead = 300,
	};
	if (set->n_enabled_macs)
		memcpy(q.mac, set->enabled_macs[0], 6);
	uint8_t out[1500];
	return bsdp_responder_answer(rsp, c, NULL, &q, out, sizeof(out), 255, a);
}

static const struct bsdp_find_select *select_for(const struct bsdp_find_result *r,
						 const struct migrate_image *im, unsigned arch)
{
	const struct bsdp_find_select *first = NULL;
	for (size_t i = 0; i < r->n_selects; i++) {
		const struct bsdp_find_select *s = &r->selects[i];
		if (s->image_id != im->id)
			continue;
		const char *ca = r->classes[s->class_idx].arch;
		char want[24];
		snprintf(want, sizeof(want), "/%s/", bsdp_arch_name(arch));
		if (strstr(s->filename, want) || bsdp_arch_from_name(ca, strlen(ca)) == arch)
			return s;
		if (!first)
			first = s;
	}
	return first;
}

/* Each difference is one line; the callers count them. */
static size_t differs(FILE *out, const char *what, const char *dhcpd, const char *kea)
{
	fprintf(out, "  differs: %s: dhcpd \"%s\", Kea \"%s\"\n", what, dhcpd, kea);
	return 1;
}

/* dhcpd's SELECT answer against the hook's, per architecture. */
static size_t compare_select(FILE *out, const struct migrate_plan *p,
			   const struct bsdp_find_result *r, const struct bsdp_responder *rsp,
			   const struct bsdp_catalogue *c, const struct migrate_image *im,
			   const struct bsdp_image *set)
{
	size_t n = 0;
	for (size_t k = 0; k < sizeof(arch_bits) / sizeof(arch_bits[0]); k++) {
		unsigned arch = arch_bits[k];
		if (!(set->archs & arch) && !(im->archs & arch))
			continue;
		const char *an = bsdp_arch_name(arch);
		if (!(set->archs & arch)) {
			fprintf(out, "  differs: architecture %s: dhcpd boots it, the set's "
				"Architectures leave it out\n", an);
			n++;
			continue;
		}
		const struct bsdp_find_select *s = select_for(r, im, arch);
		if (!s) {
			fprintf(out, "  differs: architecture %s: dhcpd has no SELECT branch for it, "
				"Kea boots the set\n", an);
			n++;
			continue;
		}
		uint32_t local = address(s->next_server[0] ? s->next_server : r->server_id);
		struct bsdp_answer a;
		char what[64], siaddr[INET_ADDRSTRLEN] = "";
		if (kea_select(rsp, c, set, arch, local ? local : CLIENT_ADDRESS - 99, &a) < 0 ||
		    a.verdict != BSDP_VERDICT_REPLY || a.sent != BSDP_MSGTYPE_SELECT) {
			fprintf(out, "  differs: %s: dhcpd boots it, Kea answers a SELECT with %s\n", an,
				a.why ? a.why : "nothing");
			n++;
			continue;
		}
		snprintf(what, sizeof(what), "booter (%s)", an);
		if (strcmp(s->filename, a.file) != 0)
			n += differs(out, what, s->filename, a.file);
		snprintf(what, sizeof(what), "disk image (%s)", an);
		if (strcmp(s->root_path, a.root_path) != 0)
			n += differs(out, what, s->root_path, a.root_path);
		struct in_addr sa = { htonl(a.siaddr) };
		inet_ntop(AF_INET, &sa, siaddr, sizeof(siaddr));
		if (s->next_server[0] && p->server_address[0] && strcmp(s->next_server, siaddr) != 0)
			n += differs(out, "next-server", s->next_server, siaddr);
	}
	return n;
}

static size_t compare_set(FILE *out, const struct migrate_plan *p, const struct bsdp_find_result *r,
			const struct bsdp_responder *rsp, const struct bsdp_catalogue *c,
			const struct migrate_image *im, const struct bsdp_image *set)
{
	char name[BSDP_NAME_MAX + 1];
	size_t n = 0;
	snprintf(name, sizeof(name), "%.*s", (int)set->name_len, set->name);
	if (strcmp(name, im->name) != 0)
		n += differs(out, "name", im->name, name);
	if (im->is_default != set->is_default && ++n)
		fprintf(out, "  differs: default: dhcpd's default image is %s, the set's IsDefault "
			"is %s\n", im->is_default ? "this one" : "another",
			set->is_default ? "true" : "false");
	if (set->filter_only && ++n)
		fprintf(out, "  differs: listed: dhcpd lists it to every Mac, the set is FilterOnly "
			"(listed only to a Mac that asks for its kind)\n");
	if ((set->n_enabled_macs || set->n_disabled_macs || set->n_enabled_models) && ++n)
		fprintf(out, "  differs: who sees it: dhcpd offers it to every Mac of its class, the "
			"set limits it (EnabledMACAddresses %zu, DisabledMACAddresses %zu, "
			"EnabledSystemIdentifiers %zu)\n", set->n_enabled_macs, set->n_disabled_macs,
			set->n_enabled_models);
	if (!set->is_enabled && ++n)
		fprintf(out, "  differs: enabled: dhcpd lists it, the set's IsEnabled is false\n");
	if (strcmp(im->chain_url, set->chain_url ? set->chain_url : "") != 0)
		n += differs(out, "iPXE chain (ChainURL)", im->chain_url,
			     set->chain_url ? set->chain_url : "");
	if (im->select)
		n += compare_select(out, p, r, rsp, c, im, set);
	return n;
}

static int responder_of(const struct migrate_plan *p, struct bsdp_responder *rsp, char *err,
			size_t size)
{
	struct bsdp_responder_config cfg = {
		.server_address = address(p->server_address),
		.priority = p->has_priority ? p->priority : BSDP_DEFAULT_PRIORITY,
		.tftp_path_prefix = p->tftp_path_prefix,
		.http_url = p->http_url[0] ? p->http_url : NULL,
		.nfs_url = p->nfs_url[0] ? p->nfs_url : NULL,
	};
	return bsdp_responder_init(rsp, &cfg, err, size);
}

static const char *skip_reason(const struct bsdp_catalogue *c, const char *dir,
			       const char *set_dir)
{
	size_t dl = strlen(dir), sl = strlen(set_dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (size_t i = 0; c && i < c->n_skipped; i++) {
		const char *path = c->skipped[i].path;
		size_t pl = strlen(path);
		if (pl == dl + 1 + sl && strncmp(path, dir, dl) == 0 && path[dl] == '/' &&
		    strcmp(path + dl + 1, set_dir) == 0)
			return c->skipped[i].reason;
	}
	return NULL;
}

size_t migrate_sets_report(FILE *out, const struct migrate_plan *p,
			   const struct bsdp_find_result *r, const char *dir,
			   const struct bsdp_catalogue *c)
{
	struct bsdp_responder rsp;
	char err[256], ids[12], other[12];
	size_t missing = 0;
	bool answers = responder_of(p, &rsp, err, sizeof(err)) == 0;
	if (!answers)
		fprintf(out, "cannot carry over: the derived parameters are refused by the hook: %s\n",
			err);
	for (size_t i = 0; i < p->n_images; i++) {
		const struct migrate_image *im = &p->images[i];
		const struct bsdp_image *set = migrate_sets_match(c, im);
		migrate_id_text(im->id, ids);
		if (set) {
			fprintf(out, "image %s (Index %u) \"%s\": set %s/%s\n", ids, im->index, im->name,
				dir, set->set_dir);
			if (answers && compare_set(out, p, r, &rsp, c, im, set) == 0)
				fprintf(out, "  same: name, default, enabled, ChainURL, and per "
					"architecture booter, disk image and next-server\n");
			continue;
		}
		missing++;
		fprintf(out, "image %s (Index %u) \"%s\": no set", ids, im->index, im->name);
		const char *why = skip_reason(c, dir, im->set_dir);
		if (why)
			fprintf(out, "; %s/%s is there but not served: %s", dir, im->set_dir, why);
		for (size_t k = 0; c && k < c->n_images; k++)
			if (c->images[k].index == im->index) {
				migrate_id_text(c->images[k].id, other);
				fprintf(out, "; %s has Index %u but image ID %s (Kind %u, IsInstall %s): "
					"IDs must stay the same, so give it Kind %u and IsInstall %s",
					c->images[k].set_dir, im->index, other, c->images[k].kind,
					c->images[k].install ? "true" : "false", im->kind,
					im->install ? "true" : "false");
			}
		fputc('\n', out);
	}
	for (size_t k = 0; c && k < c->n_images; k++) {
		bool known = false;
		for (size_t i = 0; i < p->n_images && !known; i++)
			known = p->images[i].id == c->images[k].id;
		if (known)
			continue;
		migrate_id_text(c->images[k].id, ids);
		fprintf(out, "note: set %s/%s (image %s, Index %u) is not in dhcpd.conf: Kea lists "
			"it too (move it out of %s, or set IsEnabled false, to answer as dhcpd)\n", dir,
			c->images[k].set_dir, ids, c->images[k].index, dir);
	}
	if (r->has_default && c) {
		struct bsdp_client client = { .arch = BSDP_ARCH_I386, .model = MODEL_I386,
					      .model_len = strlen(MODEL_I386) };
		const struct bsdp_image *def = bsdp_policy_default(c, &client, NULL, NULL);
		migrate_id_text(r->default_id, ids);
		if (def && def->id != r->default_id) {
			migrate_id_text(def->id, other);
			fprintf(out, "differs: default image: dhcpd %s, Kea %s (%s/%s): give %s "
				"IsDefault true, the others false\n", ids, other, dir, def->set_dir, ids);
		}
	}
	return missing;
}

/* ---- writing --------------------------------------------------------------- */

int migrate_set_plist_xml(const struct migrate_image *im, char **ret_xml, size_t *ret_len)
{
	plist_t d = plist_new_dict(), archs = plist_new_array();
	if (!d || !archs) {
		plist_free(d);
		plist_free(archs);
		return -1;
	}
	plist_dict_set_item(d, "Index", plist_new_uint(im->index));
	plist_dict_set_item(d, "Name", plist_new_string(im->name));
	plist_dict_set_item(d, "Kind", plist_new_uint(im->kind));
	plist_dict_set_item(d, "IsInstall", plist_new_bool(im->install));
	plist_dict_set_item(d, "IsEnabled", plist_new_bool(1));
	plist_dict_set_item(d, "IsDefault", plist_new_bool(im->is_default));
	plist_dict_set_item(d, "Type", plist_new_string(bsdp_image_type_name(im->type)));
	plist_dict_set_item(d, "BootFile", plist_new_string(im->boot_file));
	for (size_t k = 0; k < sizeof(arch_bits) / sizeof(arch_bits[0]); k++)
		if (im->archs & arch_bits[k])
			plist_array_append_item(archs, plist_new_string(bsdp_arch_name(arch_bits[k])));
	plist_dict_set_item(d, "Architectures", archs);
	if (im->type != BSDP_TYPE_BOOTFILEONLY)
		plist_dict_set_item(d, "RootPath", plist_new_string(im->root_path));
	if (im->chain_url[0])
		plist_dict_set_item(d, "ChainURL", plist_new_string(im->chain_url));
	/* Diagnostics (Kind 3) default to FilterOnly, listed only to a Mac that
	 * asks for them; dhcpd listed it to every Mac. */
	if (im->kind == 3)
		plist_dict_set_item(d, "FilterOnly", plist_new_bool(0));
	if (im->select) {
		char desc[BSDP_FIND_PATH_LEN];
		snprintf(desc, sizeof(desc), "Written by kea-bsdp-migrate from %s:%u",
			 im->select->at.file, im->select->at.line);
		plist_dict_set_item(d, "Description", plist_new_string(desc));
	}
	char *xml = NULL;
	uint32_t len = 0;
	plist_to_xml(d, &xml, &len);
	plist_free(d);
	if (!xml)
		return -1;
	/* plist_to_xml's buffer is malloc'd on every libplist (2.2's
	 * plist_to_xml_free and 2.3's plist_mem_free are free()). */
	*ret_xml = xml;
	*ret_len = len;
	return 0;
}

static int write_new_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			return -e;
		}
		done += (size_t)n;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* What the scanner needs in the set beyond the plist, and where dhcpd's
 * answers say it is now. */
static void say_copies(FILE *out, const struct bsdp_find_result *r,
		       const struct migrate_image *im, const char *set_path)
{
	for (size_t k = 0; k < sizeof(arch_bits) / sizeof(arch_bits[0]); k++) {
		if (!(im->archs & arch_bits[k]))
			continue;
		const char *an = bsdp_arch_name(arch_bits[k]);
		/* Each architecture's booter from the branch that boots it there:
		 * a ppc booter in the i386 folder boots no Intel Mac. */
		const struct bsdp_find_select *s = select_for(r, im, arch_bits[k]);
		if (s && s->filename[0])
			fprintf(out, "  copy %s from your TFTP root to %s/%s/%s\n",
				s->filename, set_path, an, im->boot_file);
		else
			fprintf(out, "  put the %s booter at %s/%s/%s (dhcpd names none for this "
				"image)\n", an, set_path, an, im->boot_file);
		if (arch_bits[k] == BSDP_ARCH_I386 && im->type != BSDP_TYPE_BOOTFILEONLY) {
			const char *file = s ? s->filename : "";
			const char *slash = strrchr(file, '/');
			fprintf(out, "  copy %.*s%sx86_64/kernelcache from your TFTP root to "
				"%s/i386/x86_64/kernelcache (the booter loads it next)\n",
				slash ? (int)(slash - file + 1) : 0, file, slash ? "" : "the ",
				set_path);
		}
	}
	if (im->type != BSDP_TYPE_BOOTFILEONLY && !bsdp_root_path_is_url(im->root_path))
		fprintf(out, "  copy the disk image dhcpd serves as %s to %s/%s\n",
			im->select ? im->select->root_path : "(none)", set_path, im->root_path);
}

int migrate_sets_write(FILE *out, const struct migrate_plan *p,
		       const struct bsdp_find_result *found, const char *dir,
		       const struct bsdp_catalogue *c)
{
	int written = 0;
	char ids[12];
	for (size_t i = 0; i < p->n_images; i++) {
		const struct migrate_image *im = &p->images[i];
		if (migrate_sets_match(c, im))
			continue;
		migrate_id_text(im->id, ids);
		char set_path[4096], path[4200];
		struct stat st;
		snprintf(set_path, sizeof(set_path), "%s/%s", dir, im->set_dir);
		if (lstat(set_path, &st) == 0) {
			fprintf(out, "not written: %s exists; image %s is left to you (nothing is "
				"overwritten)\n", set_path, ids);
			continue;
		}
		char *xml = NULL;
		size_t len = 0;
		if (mkdir(set_path, 0755) < 0) {
			fprintf(out, "kea-bsdp-migrate: cannot create %s: %s\n", set_path, strerror(errno));
			return -1;
		}
		for (size_t k = 0; k < sizeof(arch_bits) / sizeof(arch_bits[0]); k++) {
			snprintf(path, sizeof(path), "%s/%s", set_path, bsdp_arch_name(arch_bits[k]));
			if ((im->archs & arch_bits[k]) && mkdir(path, 0755) < 0) {
				fprintf(out, "kea-bsdp-migrate: cannot create %s: %s\n", path,
					strerror(errno));
				return -1;
			}
		}
		snprintf(path, sizeof(path), "%s/NBImageInfo.plist", set_path);
		int r = migrate_set_plist_xml(im, &xml, &len) < 0 ? -ENOMEM
								   : write_new_file(path, xml, len);
		free(xml);
		if (r < 0) {
			fprintf(out, "kea-bsdp-migrate: cannot write %s: %s\n", path, strerror(-r));
			return -1;
		}
		written++;
		fprintf(out, "wrote %s (image %s, Index %u, Type %s%s%s)\n", path, ids, im->index,
			bsdp_image_type_name(im->type), im->chain_url[0] ? ", ChainURL " : "",
			im->chain_url);
		say_copies(out, found, im, set_path);
	}
	return written;
}
