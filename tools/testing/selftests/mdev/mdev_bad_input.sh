#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input to create and remove: each write gets mainline's errno
# (drivers/vfio/mdev/mdev_sysfs.c, mdev_core.c) and changes nothing.
. "$(dirname "$0")/lib.sh"

load_parents
write_errno $T0/create $U1 >/dev/null        # a live mdev under parent 0
write_errno $T0H/create $U2 >/dev/null       # vhost type: 1 of 2 used
write_errno $T0H/create $U3 >/dev/null       # vhost type: exhausted
before=$(mdev_state)
R=$P0/$U1/remove
long=$(head -c 4096 /dev/zero | tr '\0' 1)

# file | printf format of the bytes written | expected errno | what
cases=(
	"$T0/create|\\n|EINVAL|create: empty line"
	"$T0/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa100|EINVAL|create: 35 bytes"
	"$T0/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa100112|EINVAL|create: 38 bytes"
	"$T0/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\\n\\n|EINVAL|create: two newlines (38 bytes)"
	"$T0/create|{83b8f4f2-509f-382f-3c1e-e6bfe0fa1009}|EINVAL|create: braces (38 bytes)"
	"$T0/create|{3b8f4f2-509f-382f-3c1e-e6bfe0fa109}|EINVAL|create: braces (36 bytes)"
	"$T0/create|83b8f4f2509f382f3c1ee6bfe0fa10090000|EINVAL|create: no dashes"
	"$T0/create|83b8f4f-2509f-382f-3c1e-e6bfe0fa1009|EINVAL|create: dash misplaced"
	"$T0/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa100g|EINVAL|create: non-hex g"
	"$T0/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa100 |EINVAL|create: trailing space"
	"$T0/create| 83b8f4f2-509f-382f-3c1e-e6bfe0fa1009|EINVAL|create: leading space"
	"$T0/create|\\n83b8f4f2-509f-382f-3c1e-e6bfe0fa100|EINVAL|create: leading newline"
	"$T0/create|83b8f4f2-509f-382f\\0-3c1e-e6bfe0fa109|EINVAL|create: NUL inside"
	"$T0/create|urn:uuid:83b8f4f2-509f-382f-3c1e-e6bfe0fa1009|EINVAL|create: urn: prefix"
	"$T0/create|0x83b8f4f2-509f-382f-3c1e-e6bfe0fa10|EINVAL|create: 0x prefix"
	"$T0/create|------------------------------------|EINVAL|create: all dashes"
	"$T0/create|83b8f4f2_509f_382f_3c1e_e6bfe0fa1009|EINVAL|create: underscores"
	"$T0/create|$long|EINVAL|create: a page of digits"
	"$T0/create|$U1|EEXIST|create: duplicate, same type"
	"$T0/create|$U1\\n|EEXIST|create: duplicate with newline"
	"$T0/create|$(echo $U1 | tr a-f A-F)|EEXIST|create: duplicate in upper case"
	"$T0/create|$U2|EEXIST|create: duplicate of another type"
	"$T1/create|$U1|EEXIST|create: duplicate under another parent"
	"$T0H/create|83b8f4f2-509f-382f-3c1e-e6bfe0fa1009|EUSERS|create: type exhausted"
	"$R|\\n|EINVAL|remove: empty line"
	"$R|abc|EINVAL|remove: not a number"
	"$R|-1|EINVAL|remove: negative"
	"$R|1 1|EINVAL|remove: two numbers"
	"$R|1x|EINVAL|remove: trailing garbage"
	"$R|99999999999999999999999|EINVAL|remove: overflow"
	"$R|0x|EINVAL|remove: bare 0x"
	"$R|$long|EINVAL|remove: a page of digits"
	"$R|0|OK|remove: 0 is accepted and does nothing"
)
ktap_set_plan $((${#cases[@]} + 3))

for c in "${cases[@]}"; do
	IFS='|' read -r file fmt want desc <<<"$c"
	check "$desc: $want, no change" \
		eval 'eq "$(write_fmt_errno "$file" "$fmt")" "$want" && eq "$(mdev_state)" "$before"'
done
check "read-only attribute refuses writes" not sh -c "echo 1 > $T0/available_instances"
check "refused creates are named in dmesg" \
	eval 'dmesg | grep -q "mdev: create $U1 of type virtio refused: UUID in use (-17)"'
unload_all
check "dmesg clean" dmesg_clean
ktap_finished
