package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;

/** Sees every descriptor as it crosses the bus (for capture). Must not block and must not keep {@code data}. */
interface BusTap {
    BusTap NONE = (d, data, slot) -> { };

    void record(Direction direction, Data data, long ringSlot);
}
