package io.cardnet.link.dma;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameFault;
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

    /**
     * The size of a region's file when a card VM maps it as PCI memory: a BAR is a power of two, so the file is
     * that much (sparse; only slots in use take memory) although the slots need {@link #bytes()}.
     */
    public static final long BAR_BYTES = Long.highestOneBit((long) SLOTS * SLOT_BYTES - 1) << 1;

    private final Path path;
    private final Object fileKey;
    private final Arena arena;
    private final MemorySegment memory;
    private final boolean created;

    private DmaRegion(Path path, Object fileKey, Arena arena, MemorySegment memory, boolean created) {
        this.path = path;
        this.fileKey = fileKey;
        this.arena = arena;
        this.memory = memory;
        this.created = created;
    }

    /** Bytes of the slots: what every end maps. */
    public static long bytes() {
        return (long) SLOTS * SLOT_BYTES;
    }

    /** True if {@link #create} made this region's file (and its owner should remove it), false if it was there. */
    public boolean createdHere() {
        return created;
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

    /**
     * The simulator creates the region (owner-only), sized for {@link #SLOTS} slots. A region file that already
     * exists is used as it is, the same inode: a card VM maps that very file as PCI memory (the lab makes it before
     * starting the VM), and a new file would leave the VM on the old memory while everyone else used the new.
     */
    public static DmaRegion create(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        if (Files.isRegularFile(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return map(path, false);
        }
        Files.deleteIfExists(path);
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return map(path, true);
    }

    /**
     * Makes an empty region file of {@link #BAR_BYTES} (sparse), for a VM's PCI memory: the simulator will use it
     * instead of making its own.
     */
    public static void prepareForVm(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(BAR_BYTES);
            ch.write(java.nio.ByteBuffer.allocate(1), BAR_BYTES - 1);
        }
    }

    /**
     * An end maps the region its simulator created: the file itself, or in a card VM the PCI BAR that holds it
     * ({@code /sys/bus/pci/devices/.../resource2}, linked where the file would be).
     */
    public static DmaRegion open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("no DMA region at " + path + "; the simulator creates it when started with --dma");
        }
        return map(path, false);
    }

    private static DmaRegion map(Path path, boolean created) throws IOException {
        long size = (long) SLOTS * SLOT_BYTES;
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() < size) {
                ch.truncate(size);
                ch.write(java.nio.ByteBuffer.allocate(1), size - 1);
            }
            return new DmaRegion(path, fileKeyOf(path), arena, ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena),
                    created);
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

    /**
     * The frame a descriptor of {@code length} bytes in {@code slot} holds, checked like a DATA frame from a socket
     * (a length a slot holds, the IP header's own length), or the fault that says why not. Everything it is given
     * comes from another process, so nothing here throws: the simulator checks a producer's DESC with it, and an
     * end checks the DESC it is handed again, since the producer can rewrite its slot after the simulator looked.
     */
    public Decoded<Data> descriptor(int slot, int length) {
        if (slot < 0 || slot >= SLOTS) {
            return Decoded.refused(FrameFault.Kind.BAD_SLOT, "descriptor names slot " + slot + "; a region has slots 0.."
                    + (SLOTS - 1));
        }
        if (length < Data.PACKET_OFFSET + Data.MIN_PACKET || length > Data.PACKET_OFFSET + Data.MAX_PACKET) {
            return Decoded.refused(FrameFault.Kind.BAD_LENGTH, "DESC of " + length + " bytes; a descriptor holds "
                    + (Data.PACKET_OFFSET + Data.MIN_PACKET) + ".." + (Data.PACKET_OFFSET + Data.MAX_PACKET));
        }
        return FrameDecoder.data(frame(slot, length));
    }

    @Override
    public void close() {
        arena.close();
    }
}
