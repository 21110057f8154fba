package io.cardnet.card.firmware;

import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped firmware loads; every kind of broken firmware is refused with the file and line at fault. The
 * broken ones are the shipped 1.0.1 with one line changed.
 */
class FirmwareLoaderTest {
    private static final Path SHIPPED = Path.of("..", "images", "card-firmware");

    @TempDir
    Path tmp;

    @Test
    void theShippedFirmwareLoads() throws Exception {
        RootRequired.requireTool("nft");
        RootRequired.check();
        Firmware f0 = FirmwareLoader.load(SHIPPED.resolve("1.0.0"));
        Firmware f1 = FirmwareLoader.load(SHIPPED.resolve("1.0.1"));
        assertEquals("1.0.0", f0.version());
        assertEquals("1.0.1", f1.version());
        assertEquals(List.of(CardService.SINK, CardService.ECHO, CardService.CONSOLE), f1.services());
        assertEquals("1", f1.sysctls().get("net.ipv4.ip_forward"));
        assertEquals(new HealthCheck.Listening(9, 14), f1.health().getFirst());
        assertTrue(f1.overlay() != null && Files.exists(f1.overlay().resolve("etc/motd")));
        assertTrue(Files.readString(f1.ruleset()).contains("unsolicited wire to host"));
    }

    @Test
    void aMissingVersionNamesTheFile() throws Exception {
        FirmwareException e = refused(y -> y.replace("version: 1.0.1\n", ""));
        assertTrue(e.getMessage().contains("firmware.yaml") && e.getMessage().contains("missing 'version'"), e.getMessage());
    }

    @Test
    void anUnknownServiceNamesItsLine() throws Exception {
        FirmwareException e = refused(y -> y.replace("services: [sink, echo, console]", "services: [sink, echo, telnet]"));
        assertEquals(7, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("unknown service 'telnet'") && e.getMessage().contains("sink, echo"),
                e.getMessage());
    }

    @Test
    void aHealthCheckThatCanNeverPassIsRefused() throws Exception {
        FirmwareException e = refused(y -> y.replace("  - listening: 7\n", "  - listening: 8080\n"));
        assertEquals(15, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("can never pass") && e.getMessage().contains("8080"), e.getMessage());

        FirmwareException s = refused(y -> y.replace("sysctl: net.ipv4.ip_forward=1", "sysctl: net.ipv4.ip_forward=0"));
        assertEquals(16, s.line(), s.getMessage());
        assertTrue(s.getMessage().contains("sets net.ipv4.ip_forward to 1"), s.getMessage());
    }

    @Test
    void otherFaultsNameTheirLines() throws Exception {
        assertEquals(5, refused(y -> y.replace("version: 1.0.1", "version: one")).line());
        assertEquals(5, refused(y -> y.replace("version: 1.0.1", "version: 1.0.2")).line(), "directory name mismatch");
        assertEquals(10, refused(y -> y.replace("ruleset: firewall.nft", "ruleset: nowhere.nft")).line());
        assertEquals(10, refused(y -> y.replace("ruleset: firewall.nft", "ruleset: ../1.0.0/firewall.nft")).line());
        assertEquals(14, refused(y -> y.replace("  - listening: 9", "  - pingable: 9")).line());
        assertEquals(6, refused(y -> y.replace("description:", "descripton:")).line());
        assertEquals(9, refused(y -> y.replace("  net.ipv4.ip_forward: 1", "  kernel.panic: 1")).line());
        FirmwareException yaml = refused(y -> y.replace("services: [sink, echo, console]", "services: [sink, echo"));
        assertTrue(yaml.getMessage().contains("not valid YAML"), yaml.getMessage());
        assertTrue(refused(y -> y.replace("health:", "healthz:")).getMessage().contains("unknown key 'healthz'"));
    }

    @Test
    void theKernelIsASeriesAPackageOrAPathAndItsFaultsNameTheirLines() throws Exception {
        Path dir = copyOf101();
        Path yaml = dir.resolve(Firmware.FILE);
        String base = Files.readString(yaml).replaceAll("(?m)^kernel:.*\n", "");
        Files.writeString(yaml, base);
        assertEquals(CardKernel.defaultKernel(), accepting().read(dir).kernel(), "no kernel: the default series");

        Files.writeString(yaml, base + "kernel: 6.12\n");
        CardKernel series = accepting().read(dir).kernel();
        assertTrue(series.isSeries() && series.spec().equals("6.12") && series.cmdline().isEmpty(), series.toString());

        Files.writeString(yaml, base + "kernel:\n  version: 6.1.0-57-amd64\n  cmdline: initcall_blacklist=virtio_console_init\n");
        CardKernel pkg = accepting().read(dir).kernel();
        assertTrue(pkg.isPackage() && pkg.cmdline().equals("initcall_blacklist=virtio_console_init"), pkg.toString());

        Path tree = Files.createDirectories(dir.resolve("linux"));
        Files.writeString(yaml, base + "kernel: ./linux\n");
        Firmware withPath = accepting().read(dir);
        assertEquals(tree.toAbsolutePath().normalize(), withPath.kernel().path());
        Path moved = tmp.resolve("slot").resolve("1.0.1");
        assertEquals(moved.resolve("linux"), withPath.relocated(moved).kernel().path(), "a kernel inside the firmware moves with it");

        int line = base.split("\n").length + 1;
        for (String bad : new String[]{"kernel: latest\n", "kernel: ./nowhere\n", "kernel:\n  flavour: rt\n",
                "kernel:\n  cmdline: quiet\n", "kernel:\n  version: 6.1\n  cmdline: root=/dev/sda\n"}) {
            Files.writeString(yaml, base + bad);
            FirmwareException e = assertThrows(FirmwareException.class, () -> accepting().read(dir), bad);
            assertTrue(e.line() == line || e.line() == line + 1 || e.line() == line + 2, bad + " → " + e.getMessage());
            assertTrue(e.getMessage().contains("kernel"), e.getMessage());
        }
    }

    @Test
    void shipped120NamesItsEspAlgorithmAndNoKey() throws Exception {
        Firmware f = accepting().read(SHIPPED.resolve("1.2.0"));
        assertEquals(io.cardnet.card.ipsec.EspProposal.AES256GCM16, f.ipsec().esp());
        assertTrue(f.health().stream().anyMatch(h -> h instanceof HealthCheck.Ipsec), "its health includes the tunnel");
        assertEquals(null, accepting().read(SHIPPED.resolve("1.1.0")).ipsec(), "1.1.0 has no tunnel");
    }

    @Test
    void ipsecFaultsNameTheirLines() throws Exception {
        Path dir = copyOf101();
        Path yaml = dir.resolve(Firmware.FILE);
        String base = Files.readString(yaml).replaceAll("(?m)^kernel:.*\n", "");
        int line = base.split("\n").length + 1;
        String[][] cases = {
                {"ipsec:\n  mode: transport\n  esp: aes256gcm16\n", "only tunnel"},
                {"ipsec:\n  esp: des\n", "unknown ESP algorithm 'des'"},
                {"ipsec:\n  mode: tunnel\n", "ipsec needs esp"},
                {"ipsec:\n  esp: aes128gcm16\n  key: 0x0102\n", "keys are never in a firmware"},
                {"ipsec: on\n", "ipsec must be a mapping"}};
        for (String[] c : cases) {
            Files.writeString(yaml, base + c[0]);
            FirmwareException e = assertThrows(FirmwareException.class, () -> accepting().read(dir), c[0]);
            assertTrue(e.line() >= line && e.line() <= line + 2, c[0] + " → " + e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
        Files.writeString(yaml, base.replace("health:\n", "health:\n  - ipsec: up\n"));
        FirmwareException never = assertThrows(FirmwareException.class, () -> accepting().read(dir));
        assertTrue(never.getMessage().contains("can never pass") && never.getMessage().contains("no ipsec"), never.getMessage());
        Files.writeString(yaml, base.replace("health:\n", "health:\n  - ipsec: up\n") + "ipsec: {esp: aes128gcm16}\n");
        assertEquals(io.cardnet.card.ipsec.EspProposal.AES128GCM16, accepting().read(dir).ipsec().esp());
    }

    @Test
    void aDirectoryWithoutFirmwareYamlIsRefused() {
        FirmwareException e = assertThrows(FirmwareException.class, () -> accepting().read(tmp));
        assertTrue(e.getMessage().contains("missing") && e.getMessage().contains("firmware.yaml"), e.getMessage());
    }

    @Test
    void aRulesetNftablesRefusesNamesItsFileAndLine() throws Exception {
        RootRequired.requireTool("nft");
        RootRequired.check();
        Path dir = copyOf101();
        Path rules = dir.resolve("firewall.nft");
        Files.writeString(rules, Files.readString(rules).replace("ct state established,related", "ct state bogus"));
        FirmwareException e = assertThrows(FirmwareException.class, () -> FirmwareLoader.load(dir));
        assertEquals(rules.toAbsolutePath().normalize(), e.file());
        assertEquals(10, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("nftables refuses"), e.getMessage());
    }

    /** 1.0.1 with firmware.yaml edited, loaded with the ruleset taken as valid (these faults come before it). */
    private FirmwareException refused(UnaryOperator<String> edit) throws IOException {
        Path dir = copyOf101();
        Path yaml = dir.resolve(Firmware.FILE);
        String before = Files.readString(yaml);
        String after = edit.apply(before);
        assertTrue(!after.equals(before), "the edit changed nothing");
        Files.writeString(yaml, after);
        return assertThrows(FirmwareException.class, () -> accepting().read(dir));
    }

    private static FirmwareLoader accepting() {
        return new FirmwareLoader(ruleset -> { });
    }

    /** A fresh copy of the shipped 1.0.1 (in a directory of its own, so one test may make several). */
    private Path copyOf101() throws IOException {
        Path dir = Files.createTempDirectory(tmp, "copy").resolve("1.0.1");
        Files.createDirectories(dir);
        try (var files = Files.list(SHIPPED.resolve("1.0.1"))) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }
}
