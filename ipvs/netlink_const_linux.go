package ipvs

// Constants of the kernel's generic netlink "IPVS" family, from
// include/uapi/linux/ip_vs.h. The values are fixed ABI: every enum below
// starts at 0 (*_UNSPEC) and counts up, and only ever grows at its end.
// They were checked against the header of Linux 6.x and ipvsadm 1.31's
// libipvs/ip_vs.h.

// Family name and version (IPVS_GENL_NAME, IPVS_GENL_VERSION).
const (
	genlName    = "IPVS"
	genlVersion = 0x1
)

// Commands (enum IPVS_CMD_*).
const (
	cmdNewService = 1  // IPVS_CMD_NEW_SERVICE: add service
	cmdSetService = 2  // IPVS_CMD_SET_SERVICE: modify service
	cmdDelService = 3  // IPVS_CMD_DEL_SERVICE: delete service
	cmdGetService = 4  // IPVS_CMD_GET_SERVICE: get (dump) services
	cmdNewDest    = 5  // IPVS_CMD_NEW_DEST: add destination
	cmdSetDest    = 6  // IPVS_CMD_SET_DEST: modify destination
	cmdDelDest    = 7  // IPVS_CMD_DEL_DEST: delete destination
	cmdGetDest    = 8  // IPVS_CMD_GET_DEST: dump destinations of a service
	cmdNewDaemon  = 9  // IPVS_CMD_NEW_DAEMON: start sync daemon (unused)
	cmdDelDaemon  = 10 // IPVS_CMD_DEL_DAEMON: stop sync daemon (unused)
	cmdGetDaemon  = 11 // IPVS_CMD_GET_DAEMON: sync daemon status (unused)
	cmdSetConfig  = 12 // IPVS_CMD_SET_CONFIG: set timeouts (SetTimeouts)
	cmdGetConfig  = 13 // IPVS_CMD_GET_CONFIG: get timeouts (unused)
	cmdSetInfo    = 14 // IPVS_CMD_SET_INFO: only the command of GET_INFO replies
	cmdGetInfo    = 15 // IPVS_CMD_GET_INFO: version and connection table size
	cmdZero       = 16 // IPVS_CMD_ZERO: zero counters (unused)
	cmdFlush      = 17 // IPVS_CMD_FLUSH: delete everything (unused, on purpose)
)

// First-level attributes (enum IPVS_CMD_ATTR_*).
const (
	cmdAttrService       = 1 // IPVS_CMD_ATTR_SERVICE: nested service attributes
	cmdAttrDest          = 2 // IPVS_CMD_ATTR_DEST: nested destination attributes
	cmdAttrDaemon        = 3 // IPVS_CMD_ATTR_DAEMON: nested sync daemon attributes
	cmdAttrTimeoutTCP    = 4 // IPVS_CMD_ATTR_TIMEOUT_TCP: u32
	cmdAttrTimeoutTCPFin = 5 // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u32
	cmdAttrTimeoutUDP    = 6 // IPVS_CMD_ATTR_TIMEOUT_UDP: u32
)

// Service attributes, nested in IPVS_CMD_ATTR_SERVICE (enum IPVS_SVC_ATTR_*).
const (
	svcAttrAF        = 1  // IPVS_SVC_ATTR_AF: u16 address family
	svcAttrProtocol  = 2  // IPVS_SVC_ATTR_PROTOCOL: u16 IP protocol
	svcAttrAddr      = 3  // IPVS_SVC_ATTR_ADDR: union nf_inet_addr (16 bytes; 4 accepted)
	svcAttrPort      = 4  // IPVS_SVC_ATTR_PORT: be16
	svcAttrFWMark    = 5  // IPVS_SVC_ATTR_FWMARK: u32
	svcAttrSchedName = 6  // IPVS_SVC_ATTR_SCHED_NAME: NUL-terminated, at most 16 bytes with the NUL
	svcAttrFlags     = 7  // IPVS_SVC_ATTR_FLAGS: struct ip_vs_flags {u32 flags; u32 mask}
	svcAttrTimeout   = 8  // IPVS_SVC_ATTR_TIMEOUT: u32 persistence timeout in seconds
	svcAttrNetmask   = 9  // IPVS_SVC_ATTR_NETMASK: 4 bytes, see encodeNetmask
	svcAttrStats     = 10 // IPVS_SVC_ATTR_STATS: nested stats, 32-bit counters
	svcAttrPEName    = 11 // IPVS_SVC_ATTR_PE_NAME: persistence engine name, NUL-terminated
	svcAttrStats64   = 12 // IPVS_SVC_ATTR_STATS64: nested stats, 64-bit (Linux 4.1+)
)

// Destination attributes, nested in IPVS_CMD_ATTR_DEST (enum IPVS_DEST_ATTR_*).
const (
	destAttrAddr         = 1  // IPVS_DEST_ATTR_ADDR: union nf_inet_addr
	destAttrPort         = 2  // IPVS_DEST_ATTR_PORT: be16
	destAttrFwdMethod    = 3  // IPVS_DEST_ATTR_FWD_METHOD: u32, IP_VS_CONN_F_* & 0x7
	destAttrWeight       = 4  // IPVS_DEST_ATTR_WEIGHT: u32 (an int in the kernel)
	destAttrUThresh      = 5  // IPVS_DEST_ATTR_U_THRESH: u32
	destAttrLThresh      = 6  // IPVS_DEST_ATTR_L_THRESH: u32
	destAttrActiveConns  = 7  // IPVS_DEST_ATTR_ACTIVE_CONNS: u32, dump only
	destAttrInactConns   = 8  // IPVS_DEST_ATTR_INACT_CONNS: u32, dump only
	destAttrPersistConns = 9  // IPVS_DEST_ATTR_PERSIST_CONNS: u32, dump only
	destAttrStats        = 10 // IPVS_DEST_ATTR_STATS: nested stats, 32-bit counters
	destAttrAddrFamily   = 11 // IPVS_DEST_ATTR_ADDR_FAMILY: u16 (Linux 3.18+, mixed-family pools)
	destAttrStats64      = 12 // IPVS_DEST_ATTR_STATS64: nested stats, 64-bit (Linux 4.1+)
	destAttrTunType      = 13 // IPVS_DEST_ATTR_TUN_TYPE: u8 (Linux 5.2+)
	destAttrTunPort      = 14 // IPVS_DEST_ATTR_TUN_PORT: be16 (Linux 5.2+)
	destAttrTunFlags     = 15 // IPVS_DEST_ATTR_TUN_FLAGS: u16 (Linux 5.3+)
)

// Statistics attributes, nested in the *_STATS and *_STATS64 attributes
// (enum IPVS_STATS_ATTR_*). In *_STATS, CONNS, INPKTS, OUTPKTS and the rates
// are u32 and the byte counters u64; in *_STATS64 all are u64.
const (
	statsAttrConns    = 1  // IPVS_STATS_ATTR_CONNS: connections scheduled
	statsAttrInPkts   = 2  // IPVS_STATS_ATTR_INPKTS: incoming packets
	statsAttrOutPkts  = 3  // IPVS_STATS_ATTR_OUTPKTS: outgoing packets
	statsAttrInBytes  = 4  // IPVS_STATS_ATTR_INBYTES: incoming bytes
	statsAttrOutBytes = 5  // IPVS_STATS_ATTR_OUTBYTES: outgoing bytes
	statsAttrCPS      = 6  // IPVS_STATS_ATTR_CPS: current connection rate
	statsAttrInPPS    = 7  // IPVS_STATS_ATTR_INPPS: current in packet rate
	statsAttrOutPPS   = 8  // IPVS_STATS_ATTR_OUTPPS: current out packet rate
	statsAttrInBPS    = 9  // IPVS_STATS_ATTR_INBPS: current in byte rate
	statsAttrOutBPS   = 10 // IPVS_STATS_ATTR_OUTBPS: current out byte rate
	statsAttrPad      = 11 // IPVS_STATS_ATTR_PAD: alignment padding for u64s, no data
)

// Attributes of the GET_INFO reply (enum IPVS_INFO_ATTR_*), at the first level.
const (
	infoAttrVersion     = 1 // IPVS_INFO_ATTR_VERSION: u32, 0x010201 is 1.2.1
	infoAttrConnTabSize = 2 // IPVS_INFO_ATTR_CONN_TAB_SIZE: u32
)

// Service flags (IP_VS_SVC_F_*), in IPVS_SVC_ATTR_FLAGS.
const (
	svcFlagPersistent = 0x0001 // IP_VS_SVC_F_PERSISTENT
	svcFlagHashed     = 0x0002 // IP_VS_SVC_F_HASHED: kernel-internal, never sent
	svcFlagOnePacket  = 0x0004 // IP_VS_SVC_F_ONEPACKET
	svcFlagSched      = 0x0038 // IP_VS_SVC_F_SCHED1..3, the SchedFlags bits
)

// connFwdMask is IP_VS_CONN_F_FWD_MASK, the forwarding method bits of
// IPVS_DEST_ATTR_FWD_METHOD.
const connFwdMask = 0x0007

// schedNameMax is IP_VS_SCHEDNAME_MAXLEN: the kernel's limit for a
// scheduler name, including its terminating NUL.
const schedNameMax = 16

// peNameMax is IP_VS_PENAME_MAXLEN, the NUL included.
const peNameMax = 16
