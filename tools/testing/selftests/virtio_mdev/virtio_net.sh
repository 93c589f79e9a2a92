#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's virtio_net on an mvnet mdev through virtio_mdev: autoload
# from nothing but the core and the parent, the interface the type promises
# (MAC, MTU, bus-info), frames round the loopback byte for byte, the
# counters of the netdev, the device model and the payload agreeing, and
# the link knob reaching the carrier.
. "$(dirname "$0")/lib.sh"
ktap_set_plan 14
PKT=$RMDEV_LIB/pkt

# From nothing: virtio_net may be left loaded by an earlier run (it is not
# in $MODS), with no interface.
loaded virtio_net && rmmod virtio_net
modprobe mvnet
check "only the core and the parent are loaded" \
	eval '! loaded virtio_mdev && ! loaded virtio_net'
write_errno $NV/create $U1 >/dev/null
t0=$SECONDS
check "creating an mvnet-virtio mdev loads virtio_mdev and virtio_net (udev)" \
	eval 'wait_for 60 has_netdev $U1 && loaded virtio_mdev && loaded virtio_net'
ktap_print_msg "the interface appeared after $((SECONDS - t0)) s"
IF=$(netdev_of $U1)
VD=$(vdev_of $U1)
check "the mdev is bound to virtio_mdev, its virtio device to virtio_net" \
	eval 'eq "$(driver_of $U1)" virtio_mdev &&
	      eq "$(basename "$(readlink $MDEVS/$U1/$VD/driver)")" virtio_net'
check "the virtio device is a network card (device id 1), vendor 0" \
	eval 'eq "$(cat $MDEVS/$U1/$VD/device)" 0x0001 && eq "$(cat $MDEVS/$U1/$VD/vendor)" 0x0000'
# ethtool's bus-info is 31 bytes of the bus name.
check "bus-info is the mdev's UUID" \
	eq "$($PKT $IF info)" "driver virtio_net bus-info ${U1:0:31}"
check "the MAC is the type's (02 and the UUID's first bytes), MTU 1500" \
	eval 'eq "$(cat /sys/class/net/$IF/address)" "$(mac_of $U1)" &&
	      eq "$(cat /sys/class/net/$IF/mtu)" 1500'
check "negotiated: MTU (3), MAC (5), STATUS (16), VERSION_1 (32), nothing else" \
	eq "$(feature_bits $MDEVS/$U1/$VD/features)" "3 5 16 32"
# Only our frames: no IPv6 autoconfiguration traffic on the interface.
[ -e /proc/sys/net/ipv6/conf/$IF ] && echo 1 >/proc/sys/net/ipv6/conf/$IF/disable_ipv6
check "up: the carrier is on" \
	eval 'ip link set $IF up && wait_for 10 carrier_is $IF 1'

rx0=$(stat_of $IF rx_packets) rb0=$(stat_of $IF rx_bytes) tx0=$(stat_of $IF tx_packets)
mrx0=$(mvnet_stat $U1 rx_queue_0_packets) mrb0=$(mvnet_stat $U1 rx_queue_0_bytes)
mtx0=$(mvnet_stat $U1 tx_queue_0_packets)
out60=$($PKT $IF loop 1000 60) && out1514=$($PKT $IF loop 1000 1514)
check "1000 frames of 60 bytes and 1000 of 1514 come back byte-identical" \
	eval 'eq "$out60 | $out1514" \
	   "sent 1000 received 1000 intact 1000 bytes 60000 | sent 1000 received 1000 intact 1000 bytes 1514000"'
# mvnet counts the 12-byte virtio_net_hdr_v1 of each buffer too.
HDR_BYTES=$((1574000 + 2000 * 12))
check "netdev, device model and payload counters agree" \
	eval 'eq "$(($(stat_of $IF rx_packets) - rx0)) $(($(stat_of $IF tx_packets) - tx0))" "2000 2000" &&
	      eq "$(($(mvnet_stat $U1 rx_queue_0_packets) - mrx0)) $(($(mvnet_stat $U1 tx_queue_0_packets) - mtx0))" "2000 2000" &&
	      eq "$(($(stat_of $IF rx_bytes) - rb0))" 1574000 &&
	      eq "$(($(mvnet_stat $U1 rx_queue_0_bytes) - mrb0))" $HDR_BYTES &&
	      eq "$(mvnet_stat $U1 rx_queue_0_drops)$(mvnet_stat $U1 rx_queue_0_errors)$(mvnet_stat $U1 tx_queue_0_errors)" 000'
pp=$($PKT $IF pingpong 200 60)
check "ping-pong: 200 single frames each come back before the next goes" \
	eval '[[ "$pp" == "sent 200 received 200 intact 200 bytes 12000 rtt_median_us "* ]]'
ktap_print_msg "ping-pong: $pp"
check "link knob down: the carrier goes off" \
	eval 'echo down >/sys/kernel/debug/mvnet/$U1/link &&
	      wait_for 10 carrier_is $IF 0'
check "link knob up: the carrier comes back, and so do frames" \
	eval 'echo up >/sys/kernel/debug/mvnet/$U1/link &&
	      wait_for 10 carrier_is $IF 1 && $PKT $IF loop 10 60 >/dev/null'
write_errno $MDEVS/$U1/remove 1 >/dev/null
unload_all
check "dmesg and kmemleak clean" dmesg_clean
ktap_finished
