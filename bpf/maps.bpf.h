/* SPDX-License-Identifier: GPL-2.0 */
/* Map helpers, after bcc's libbpf-tools maps.bpf.h. */
#ifndef MAPS_BPF_H
#define MAPS_BPF_H

#include <bpf/bpf_helpers.h>

/* Look key up; insert init first if it is missing.  NULL when the map is
 * full: the caller counts the drop.  Looked up again whatever the insert
 * says: another CPU may have made the key while this one failed (-EEXIST,
 * or a transient -EBUSY from the bucket's lock), and its events count. */
static __always_inline void *lookup_or_try_init(void *map, const void *key, const void *init)
{
	void *val = bpf_map_lookup_elem(map, key);

	if (val)
		return val;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif /* MAPS_BPF_H */
