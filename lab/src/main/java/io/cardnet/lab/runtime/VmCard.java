package io.cardnet.lab.runtime;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.lab.runtime.vm.Accelerator;
import io.cardnet.lab.runtime.vm.GuestAgent;
import io.cardnet.lab.runtime.vm.VmImage;
import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.Direction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The card as a QEMU virtual machine with its own Linux kernel (the firmware's). What the card sees:
 *
 * <pre>
 *  00:08.0 virtio-serial   port io.cardnet.bus         = the simulator's card socket: descriptors, doorbells
 *                          port org.qemu.guest_agent.0 = `cardnet card exec`
 *  00:09.0 virtio-net      eth0, on tap0 in the card's namespace, bridged (br0) to the veth of the wire peer
 *  00:10.0 ivshmem-plain   BAR 2 = the h2c DMA region, the very file host-bridge and the simulator map
 *  00:11.0 ivshmem-plain   BAR 2 = the c2h DMA region
 *  virtio-blk              the slot's root disk: a qcow2 overlay on the firmware's cached image
 *  ttyS0                   its console, kept in RUN_DIR/card-console.log
 *  fw_cfg                  opt/io.cardnet/card.conf: its addresses and card-node's arguments
 *                          opt/io.cardnet/run/PATH: files the lab hands the card, /run/cardnet/PATH in the guest
 *                          (root's only): the console's host key, the lab's public key, this boot's ESP keys
 * </pre>
 *
 * QEMU runs in the card's namespace (for tap0); its pid is the card's. A reboot is a new QEMU on the slot's disk:
 * nothing of the old card's kernel survives. The simulator does not know its card is a VM.
 */
final class VmCard implements CardRuntime {
    /** The QEMU that runs the card: {@code $CARDNET_QEMU} (a QEMU of your own), else Debian's on the PATH. */
    static String qemu() {
        String q = System.getenv("CARDNET_QEMU");
        return q == null || q.isBlank() ? "qemu-system-x86_64" : q;
    }

    static final String BUS_PORT = "io.cardnet.bus";
    static final String TAP = "tap0";
    static final String BRIDGE = "br0";
    /** The card namespace's end of the veth to the wire peer (the peer's end is eth0, as in every runtime). */
    static final String WIRE_LINK = "wire0";
    /** Where cardnet-init puts the files the lab hands the guest (fw_cfg opt/io.cardnet/run/PATH: GUEST_RUN/PATH). */
    static final String GUEST_RUN = "/run/cardnet";
    private static final String FW_CFG_RUN = "opt/io.cardnet/run/";
    /** The console's state in the guest: the lab's host key, copied in each boot; SFTP's data lives for one boot. */
    private static final String GUEST_CONSOLE = GUEST_RUN + "/console";
    private static final String GUEST_LAB_KEY = GUEST_RUN + "/lab_authorized_keys";
    /** This boot's ESP keys (a firmware with ipsec:), the file the lab wrote for it and the wire peer's end. */
    static final String GUEST_IPSEC_KEYS = GUEST_RUN + "/ipsec.keys";
    private static final Map<Direction, String> DMA_PCI = Map.of(Direction.H2C, "0000:00:10.0", Direction.C2H, "0000:00:11.0");

    private final Lab lab;

    VmCard(Lab lab) {
        this.lab = lab;
    }

    private Path vmDir() {
        return lab.runDir().resolve("vm");
    }

    /** The card's namespace holds only the cable: tap0 (the VM's eth0) bridged to the veth toward the wire peer. */
    @Override
    public void wire() throws IOException {
        LabAddresses a = lab.config().addresses();
        String card = lab.names().cardNamespace();
        String wire = lab.names().wireNamespace();
        lab.progress("wiring the card VM's eth0 (tap0 in " + card + ", bridged) to the wire peer (" + a.cardWire()
                + " ⇄ " + a.peerWire() + ")");
        // owned by root's uid, so QEMU, which runs with no capabilities at all, may still attach to it
        Shell.ipIn(card, "tuntap", "add", "dev", TAP, "mode", "tap", "user", "0");
        Shell.ipIn(card, "link", "add", BRIDGE, "type", "bridge");
        Shell.ipIn(card, "link", "add", WIRE_LINK, "type", "veth", "peer", "name", LabNames.WIRE_DEVICE, "netns", wire);
        for (String dev : List.of(TAP, WIRE_LINK)) {
            Shell.ipIn(card, "link", "set", dev, "master", BRIDGE);
            Shell.ipIn(card, "link", "set", dev, "up");
        }
        Shell.ipIn(card, "link", "set", BRIDGE, "up");
        Lab.addressWirePeer(a, wire, LabNames.WIRE_DEVICE);
    }

    /** What this machine needs to run a card VM, checked before a lab creates anything. */
    static void requireHostTools() {
        requireTool(qemu(), "qemu-system-x86");
        requireTool("qemu-img", "qemu-utils");
    }

    @Override
    public void install(String slot, Firmware installed) throws IOException {
        VmImage image = VmImage.ensure(installed, lab::progress);
        Files.createDirectories(vmDir());
        Path disk = disk(slot);
        Files.deleteIfExists(disk);
        Shell.check(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.rootfs().toString(),
                disk.toString()));
        LabState.VmState vm = lab.state().vm();
        lab.updateState(lab.state().withVm(vm.withSlot(slot, image.directory().toString(), image.kernelRelease(),
                installed.kernel().cmdline())));
        lab.progress("slot " + slot + ": firmware " + installed.version() + " on kernel " + image.kernelRelease()
                + " (image " + image.directory() + ")");
    }

    /** The DMA regions as files QEMU can map as PCI memory, and the accelerator, before anything starts. */
    @Override
    public void prepare() throws IOException {
        if (lab.config().sharedMemory()) {
            for (Direction d : Direction.values()) {
                DmaRegion.prepareForVm(lab.config().dmaDir().resolve(d.tag() + ".dma"));
            }
        }
        LabState.VmState vm = lab.state().vm();
        VmImage first = VmImage.load(Path.of(vm.images().get(lab.state().firmware().active())));
        Accelerator accel = Accelerator.choose(lab.config().vm().accel(), first, qemu());
        lab.updateState(lab.state().withVm(vm.withAccel(accel.kind().qemuName(), accel.reason())));
        lab.progress("card VM accelerator: " + accel.kind().qemuName() + " (" + accel.reason() + ")");
    }

    @Override
    public List<String> command(String slot) throws IOException {
        LabState.VmState vm = lab.state().vm();
        VmImage image = VmImage.load(Path.of(vm.images().get(slot)));
        Path conf = vmDir().resolve("card-" + slot + ".conf");
        Files.writeString(conf, cardConf(image));
        Path run = lab.runDir();
        boolean dma = lab.config().sharedMemory();
        Accelerator accel = new Accelerator(Accelerator.Kind.valueOf(vm.accel().toUpperCase(java.util.Locale.ROOT)),
                vm.accelReason());
        // QEMU keeps no capability: its files (disk, DMA regions, sockets) are root's and /dev/kvm's owner is root,
        // and tap0 is owned by root's uid, which is all TUNSETIFF asks of a process without CAP_NET_ADMIN
        List<String> q = new ArrayList<>(Capabilities.confine(java.util.Set.of()));
        q.addAll(List.of(qemu(), "-name", "cardnet-" + lab.config().name() + "-card,debug-threads=on",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        q.addAll(accel.qemuArgs());
        q.addAll(List.of("-smp", Integer.toString(vm.cpus()), "-m", Integer.toString(vm.memoryMiB()),
                "-kernel", image.vmlinuz().toString(), "-initrd", image.initrd().toString(),
                "-append", ("console=ttyS0 root=/dev/vda rw panic=-1 quiet " + vm.cmdlines().getOrDefault(slot, "")).strip(),
                "-drive", "file=" + disk(slot) + ",if=virtio,format=qcow2",
                "-device", "virtio-serial-pci,id=ports,addr=0x8",
                "-chardev", "socket,id=bus,path=" + run.resolve("card.sock") + ",reconnect=1",
                "-device", "virtserialport,bus=ports.0,chardev=bus,name=" + BUS_PORT,
                "-chardev", "socket,id=agent,path=" + agentSocket() + ",server=on,wait=off",
                "-device", "virtserialport,bus=ports.0,chardev=agent,name=org.qemu.guest_agent.0",
                "-netdev", "tap,id=wire,ifname=" + TAP + ",script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=wire,mac=" + mac() + ",addr=0x9",
                "-chardev", "file,id=console,path=" + console() + ",append=on",
                "-serial", "chardev:console",
                "-qmp", "unix:" + vmDir().resolve("qmp.sock") + ",server=on,wait=off",
                "-fw_cfg", "name=opt/io.cardnet/card.conf,file=" + conf));
        guestFiles().forEach((guest, host) -> q.addAll(List.of("-fw_cfg", "name=" + FW_CFG_RUN
                + guest.substring(GUEST_RUN.length() + 1) + ",file=" + host)));
        if (dma) {
            for (Direction d : Direction.values()) {
                String id = "dma-" + d.tag();
                q.addAll(List.of("-object", "memory-backend-file,id=" + id + ",mem-path="
                                + lab.config().dmaDir().resolve(d.tag() + ".dma") + ",size=" + DmaRegion.BAR_BYTES + ",share=on",
                        "-device", "ivshmem-plain,memdev=" + id + ",addr=0x" + DMA_PCI.get(d).substring(8, 10)));
            }
        }
        return q;
    }

    /** What cardnet-init (images/vm/cardnet-init) reads from fw_cfg: shell assignments. */
    private String cardConf(VmImage image) {
        LabAddresses a = lab.config().addresses();
        boolean dma = lab.config().sharedMemory();
        List<String> args = lab.cardNodeArgs(lab.config().card(0), "virtio:" + BUS_PORT, dma ? "/run/cardnet/dma" : null,
                lab.state().firmware() == null ? null : "/opt/cardnet/firmware/" + image.firmwareVersion());
        List<String> all = new ArrayList<>(args);
        // the console: the lab's host key (so known_hosts holds across boots) and the lab's key besides the firmware's
        all.addAll(List.of("--console-dir", GUEST_CONSOLE));
        if (guestFiles().containsKey(GUEST_LAB_KEY)) {
            all.addAll(List.of("--console-authorized-keys", GUEST_LAB_KEY));
        }
        StringBuilder b = new StringBuilder("# written by cardnet lab for the card VM's cardnet-init\n");
        b.append("CARD_WIRE_ADDRESS=").append(a.cardWire()).append('\n');
        b.append("CARD_DMA_H2C=").append(dma ? DMA_PCI.get(Direction.H2C) : "").append('\n');
        b.append("CARD_DMA_C2H=").append(dma ? DMA_PCI.get(Direction.C2H) : "").append('\n');
        b.append("CARD_TCP_BUFFERS=33554432\n");
        b.append("CARD_NODE_ARGS=\"").append(String.join(" ", all)).append("\"\n");
        return b.toString();
    }

    /**
     * The files the lab hands the guest, by their path there: each an extra fw_cfg file, which QEMU reads from the
     * lab's owner-only run directory when it starts and the guest's kernel shows to root only. A private key so
     * handed never sits anywhere else on the host; in the guest it is on a tmpfs, gone with the boot.
     */
    private Map<String, Path> guestFiles() {
        LabConsoleKeys keys = lab.consoleKeys();
        Map<String, Path> files = new java.util.TreeMap<>();
        if (Files.exists(keys.hostKey())) {
            files.put(GUEST_CONSOLE + "/host_key", keys.hostKey());
        }
        if (Files.exists(keys.publicKey())) {
            files.put(GUEST_LAB_KEY, keys.publicKey());
        }
        if (Files.exists(WirePeerEsp.keysFile(lab.runDir()))) {
            files.put(GUEST_IPSEC_KEYS, WirePeerEsp.keysFile(lab.runDir()));
        }
        return files;
    }

    /** A QEMU OUI address, the same for a lab of this name every time. */
    private String mac() {
        int h = lab.config().name().hashCode();
        return String.format("52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xfe);
    }

    private Path disk(String slot) {
        return vmDir().resolve("slot-" + slot + ".qcow2");
    }

    Path agentSocket() {
        return vmDir().resolve("agent.sock");
    }

    /** Each boot is marked in the console log, so a reader can tell the card's boots apart. */
    @Override
    public void beforeBoot(String slot) throws IOException {
        LabState.VmState vm = lab.state().vm();
        Files.writeString(console(), String.format("%n===== cardnet %s: the card boots slot %s (firmware %s, kernel %s, %s)%n",
                        Instant.now(), slot, lab.state().firmware().version(slot), vm.kernels().get(slot), vm.accel()),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    @Override
    public void reset() {
        // A new QEMU is a new card: memory, kernel and every socket of the old one are gone with its process.
    }

    @Override
    public ExecResult exec(List<String> argv, Duration timeout) throws IOException {
        return new GuestAgent(agentSocket()).exec(argv, timeout);
    }

    @Override
    public Path console() {
        return lab.runDir().resolve("card-console.log");
    }

    @Override
    public String kernel() {
        LabState s = lab.state();
        return s.vm() == null || s.firmware() == null ? null : s.vm().kernels().get(s.firmware().active());
    }

    private static void requireTool(String tool, String debianPackage) {
        if (tool.contains("/")) {
            if (Files.isExecutable(Path.of(tool))) {
                return;
            }
        } else {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                if (Files.isExecutable(Path.of(dir, tool))) {
                    return;
                }
            }
        }
        throw new LabException("the VM runtime needs " + tool + ", which is not installed: apt-get install "
                + debianPackage + (tool.contains("/") ? " (or point CARDNET_QEMU at a QEMU that exists)" : "")
                + "; or run the card as a namespace: --runtime netns");
    }
}
