package kaimport

// knownReasons are keepalived 2.2's keywords that the translation has no
// case of its own for, by the place they appear in (the where of
// unsupported): without them a keyword keepalived knows would be reported
// as unknown, "keepalived 2.2 ignores it too", which is not so. A reason
// that starts with "note: " is a Note (lvsctl behaves so anyway, or the
// keyword tunes keepalived's own processes); any other is a Warning.
// docs/keepalived-keywords.md lists every keyword with its status, and its
// test checks each against the translation.
var knownReasons = map[string]map[string]string{
	"global_defs": {
		"process_name":                        "note: process names of keepalived; lvsctl is one process",
		"lvs_process_name":                    "note: process names of keepalived; lvsctl is one process",
		"bfd_process_name":                    "note: process names of keepalived; lvsctl is one process",
		"min_auto_priority_delay":             "note: process scheduling of keepalived; lvsctl is one process",
		"vrrp_rlimit_rtime":                   "note: process scheduling of keepalived; lvsctl is one process",
		"checker_rlimit_rtime":                "note: process scheduling of keepalived; lvsctl is one process",
		"bfd_no_swap":                         "note: process memory of keepalived; lvsctl is one process",
		"bfd_rt_priority":                     "note: process scheduling of keepalived; lvsctl is one process",
		"bfd_cpu_affinity":                    "note: process scheduling of keepalived; lvsctl is one process",
		"bfd_rlimit_rttime":                   "note: process scheduling of keepalived; lvsctl is one process",
		"bfd_rlimit_rtime":                    "note: process scheduling of keepalived; lvsctl is one process",
		"startup_script":                      "lvsctl runs no command when it starts: run it from the service unit (ExecStartPre= in a systemd drop-in)",
		"startup_script_timeout":              "lvsctl runs no command when it starts: run it from the service unit (ExecStartPre= in a systemd drop-in)",
		"shutdown_script":                     "lvsctl runs no command when it stops: run it from the service unit (ExecStopPost= in a systemd drop-in)",
		"shutdown_script_timeout":             "lvsctl runs no command when it stops: run it from the service unit (ExecStopPost= in a systemd drop-in)",
		"no_email_faults":                     "lvsctl's alert_email also mails a vrrp_instance's transitions to FAULT, which keepalived leaves out with no_email_faults",
		"no_checker_emails":                   "lvsctl mails every real server state change its smtp_alert settings ask for; keepalived with no_checker_emails mails only when a server is added or removed",
		"rs_init_notifies":                    "lvsctl runs notify_up and notify_down when a real server changes state, not for the state it finds at start, which rs_init_notifies adds",
		"disable_local_igmp":                  "lvsctl leaves net.ipv4.igmp_link_local_mcast_reports as it is: set it to 0 with sysctl to stop IGMP reports for the VRRP group",
		"lvs_flush_on_stop":                   "lvsctl never flushes the IPVS table; flush_on_exit removes only the services it owns",
		"vrrp_garp_lower_prio_delay":          "lvsctl sends no gratuitous ARPs on adverts of a lower priority",
		"vrrp_garp_lower_prio_repeat":         "lvsctl sends no gratuitous ARPs on adverts of a lower priority",
		"vrrp_down_timer_adverts":             "lvsctl's master down timer is always the RFC's 3 advert intervals plus the skew time",
		"vrrp_garp_extra_if":                  "lvsctl sends no periodic gratuitous ARPs on other interfaces (garp_master_refresh repeats them on the VIPs' own)",
		"vrrp_vmac_garp_intvl":                "lvsctl sends no periodic gratuitous ARPs on a VMAC's base interface (garp_master_refresh repeats them on the VIPs' own)",
		"nftables_priority":                   "lvsctl puts the no_accept and strict_mode drop rules in tables of its own (lvsctl_vrrp_VRID_IFINDEX, chains at priority filter - 1); this setting does not apply",
		"nftables_ifindex":                    "lvsctl puts the no_accept and strict_mode drop rules in tables of its own (lvsctl_vrrp_VRID_IFINDEX, chains at priority filter - 1); this setting does not apply",
		"nftables_counters":                   "lvsctl puts the no_accept and strict_mode drop rules in tables of its own (lvsctl_vrrp_VRID_IFINDEX, chains at priority filter - 1); they have no counters",
		"nftables_ipvs":                       "lvsctl makes one IPVS service per member of a virtual_server_group, not one fwmark service set by nftables: persistence then holds per member, not across the group",
		"nftables_ipvs_priority":              "lvsctl makes one IPVS service per member of a virtual_server_group, not one fwmark service set by nftables: persistence then holds per member, not across the group",
		"nftables_ipvs_start_fwmark":          "lvsctl makes one IPVS service per member of a virtual_server_group, not one fwmark service set by nftables: persistence then holds per member, not across the group",
		"vrrp_notify_priority_changes":        "lvsctl has no notify FIFO; use notify hooks",
		"fifo_write_vrrp_states_on_reload":    "lvsctl has no notify FIFO; use notify hooks",
		"dbus_service_name":                   "lvsctl has no D-Bus interface",
		"vrrp_netlink_cmd_rcv_bufs":           "note: socket tuning of keepalived",
		"vrrp_netlink_cmd_rcv_bufs_force":     "note: socket tuning of keepalived",
		"vrrp_netlink_monitor_rcv_bufs":       "note: socket tuning of keepalived",
		"vrrp_netlink_monitor_rcv_bufs_force": "note: socket tuning of keepalived",
		"process_monitor_rcv_bufs":            "note: socket tuning of keepalived",
		"process_monitor_rcv_bufs_force":      "note: socket tuning of keepalived",
		"lvs_netlink_cmd_rcv_bufs":            "note: socket tuning of keepalived",
		"lvs_netlink_cmd_rcv_bufs_force":      "note: socket tuning of keepalived",
		"lvs_netlink_monitor_rcv_bufs":        "note: socket tuning of keepalived",
		"lvs_netlink_monitor_rcv_bufs_force":  "note: socket tuning of keepalived",
		"vrrp_rx_bufs_policy":                 "note: socket tuning of keepalived",
		"vrrp_rx_bufs_multiplier":             "note: socket tuning of keepalived",
		"log_unknown_vrids":                   "note: logging only",
		"vmac_prefix":                         "lvsctl names a VMAC interface vrrp.VRID unless use_vmac gives a name; this prefix is not applied",
		"vmac_addr_prefix":                    "lvsctl names a VMAC interface vrrp.VRID unless use_vmac gives a name; this prefix is not applied",
		"umask":                               "note: the permissions of keepalived's own files",
		"random_seed":                         "note: seeds keepalived's ${_RANDOM}, which the import does not expand (it warns where it is used)",
		"reload_check_config":                 "note: lvsctl checks a file before it reloads it and keeps the running configuration when the file is invalid",
		"reload_time_file":                    "lvsctl reloads when told to (SIGHUP, lvsctl reload), never at a time read from a file: schedule that instead (a systemd timer)",
		"reload_repeat":                       "lvsctl reloads when told to (SIGHUP, lvsctl reload), never at a time read from a file: schedule that instead (a systemd timer)",
		"reload_file":                         "note: a mechanism of keepalived's reloads; lvsctl reads the file when it is told to reload",
		"include_check":                       "note: the import reads includes as keepalived does without checks, and warns about a pattern that matches no file",
		"config_save_dir":                     "note: keepalived's debugging copies of its configuration",
		"tmp_config_directory":                "note: where keepalived keeps its copy of the configuration",
		"data_use_instance":                   "note: the names of keepalived's dump files",
	},
	"the top level": {
		"net_namespace_ipvs":       "lvsctl programs IPVS in the namespace it runs in (or --netns)",
		"namespace_with_ipsets":    "note: lvsctl uses no ipsets",
		"child_wait_time":          "note: keepalived's wait for its child processes; lvsctl is one process",
		"track_group":              "lvsctl has no track groups: the static addresses that name one do not move instances to BACKUP when removed",
		"interface_up_down_delays": "lvsctl acts on a link change at once: it has no up or down delays",
	},
	"vrrp_instance": {
		"old_unicast_checksum":    "lvsctl sends and accepts only the standard checksum of unicast adverts: a peer that uses the old one (keepalived before 1.3.6 with unicast) will not interoperate",
		"vrf":                     "lvsctl does not put VRRP in a VRF",
		"mcast_dst_ip":            "lvsctl sends adverts to the standard group (224.0.0.18, ff02::12)",
		"linkbeat_use_polling":    "lvsctl watches links with netlink only",
		"notify_priority_changes": "lvsctl has no notify FIFO; use notify hooks",
		"down_timer_adverts":      "lvsctl's master down timer is always the RFC's 3 advert intervals plus the skew time",
		"garp_extra_if":           "lvsctl sends no periodic gratuitous ARPs on other interfaces (garp_master_refresh repeats them on the VIPs' own)",
		"vmac_garp_intvl":         "lvsctl sends no periodic gratuitous ARPs on a VMAC's base interface (garp_master_refresh repeats them on the VIPs' own)",
	},
	"virtual_server": {
		"snmp_name": "note: a name for keepalived's SNMP agent; lvsctl has none",
	},
	"real_server": {
		"snmp_name": "note: a name for keepalived's SNMP agent; lvsctl has none",
	},
	"HTTP_GET": {
		"enable_sni": "note: HTTP_GET has no TLS; keepalived ignores it too",
	},
}

// knownReason returns the reason for keepalived keyword kw in where.
func knownReason(where, kw string) (string, bool) {
	r, ok := knownReasons[where][kw]
	return r, ok
}
