package io.cardnet.link.dma;

import io.cardnet.link.protocol.Data;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One direction's DMA memory: a file on tmpfs that the producer, the simulator and the consumer all map.
 * Slot {@code i} holds descriptor {@code i}'s DATA frame bytes exactly as they would cross a socket (header,
 * virtio header, packet), so a TUN reads into a slot and the far end's TUN writes from it: two copies from
 * kernel to kernel, and the simulator never copies a packet. The file is sparse; only slots in use take memory.
 */
public final class DmaRegion implements AutoCloseable {
    /** A DATA frame of a 65535-byte packet (65561 bytes), rounded up to 512. */
    public static final int SLOT_BYTES = 66048;
    /** As many slots as the deepest ring allowed. */
    public static final int SLOTS = 4096;

    private final Path path;
    private final Object fileKey;
    private final Arena arena;
    private final MemorySegment memory;

    private DmaRegion(Path path, Object fileKey, Arena arena, MemorySegment memory) {
        this.path = path;
        this.fileKey = fileKey;
        this.arena = arena;
        this.memory = memory;
    }

    /** The mapped file's identity (device and inode): a restarted simulator's new region has another. */
    public Object fileKey() {
        return fileKey;
    }

    /** The identity of the file at {@code path} now, or null if there is none. */
    public static Object fileKeyOf(Path path) {
        try {
            return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** The simulator creates the region (owner-only), sized for {@link #SLOTS} slots. */
    public static DmaRegion create(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return map(path);
    }

    /** An end maps the region its simulator created. */
    public static DmaRegion open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("no DMA region at " + path + "; the simulator creates it when started with --dma");
        }
        return map(path);
    }

    private static DmaRegion map(Path path) throws IOException {
        long size = (long) SLOTS * SLOT_BYTES;
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() < size) {
                ch.truncate(size);
                ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
            }
            return new DmaRegion(path, fileKeyOf(path), arena, ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new IOException("cannot map the DMA region " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The whole slot, writer index at 0: a buffer to read a packet into at {@link Data#VNET_OFFSET}. */
    public ByteBuf slot(int index) {
        if (index < 0 || index >= SLOTS) {
            throw new IllegalArgumentException("slot " + index + " is outside 0.." + (SLOTS - 1));
        }
        ByteBuf b = Unpooled.wrappedBuffer(memory.asSlice((long) index * SLOT_BYTES, SLOT_BYTES).asByteBuffer());
        return b.clear();
    }

    /** The first {@code length} bytes of a slot: a posted descriptor's frame. */
    public ByteBuf frame(int index, int length) {
        if (length < Data.PACKET_OFFSET || length > SLOT_BYTES) {
            throw new IllegalArgumentException("a descriptor of " + length + " bytes does not fit a " + SLOT_BYTES + "-byte slot");
        }
        return slot(index).writerIndex(length);
    }

    @Override
    public void close() {
        arena.close();
    }
}
