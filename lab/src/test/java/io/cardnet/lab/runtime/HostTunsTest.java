package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HostTunsTest {
    @Test
    void aMultiQueueToeIsMadePersistentForItsOwnerThenConfiguredAndRouted() {
        var spec = new HostTuns.Spec("toe1", "198.18.0.5/30", 65535, true, 0,
                new HostTuns.Route("198.19.1.0/24", "198.18.0.6"), "cardnet lab t1");
        assertEquals(List.of(
                List.of("tuntap", "add", "dev", "toe1", "mode", "tun", "vnet_hdr", "multi_queue", "user", "0"),
                List.of("link", "set", "dev", "toe1", "alias", "cardnet lab t1"),
                List.of("link", "set", "dev", "toe1", "mtu", "65535"),
                List.of("addr", "add", "198.18.0.5/30", "dev", "toe1"),
                List.of("link", "set", "dev", "toe1", "up"),
                List.of("route", "replace", "198.19.1.0/24", "via", "198.18.0.6", "dev", "toe1", "onlink")),
                spec.commands());
    }

    @Test
    void aSingleQueueToeOfAPairHasNoRouteOfItsOwn() {
        var spec = new HostTuns.Spec("toe0", "198.18.0.1/30", 65535, false, 1000, null, "cardnet lab p");
        assertEquals(List.of("tuntap", "add", "dev", "toe0", "mode", "tun", "vnet_hdr", "user", "1000"),
                spec.commands().getFirst());
        assertEquals(List.of("link", "set", "dev", "toe0", "up"), spec.commands().getLast());
    }

    @Test
    void onlyDevicesLabelledWithThisLabAreItsOwn() throws Exception {
        String ip = """
                [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"]},
                 {"ifindex":2,"ifname":"toe0","ifalias":"cardnet lab a"},
                 {"ifindex":3,"ifname":"toe1","ifalias":"cardnet lab a"},
                 {"ifindex":4,"ifname":"toe2","ifalias":"cardnet lab ab"},
                 {"ifindex":5,"ifname":"toe3"}]
                """;
        assertEquals(List.of("toe0", "toe1"), HostTuns.labelled(ip, HostTuns.label("a")));
        assertEquals(List.of(), HostTuns.labelled("[]", HostTuns.label("a")));
    }
}
