package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The file every transfer of a bench sends, with its CRC32C and SHA-256 computed once while it is written, before
 * any clock starts: the sender then checks nothing during a run, and each sink's value is compared with these.
 */
record BenchPayload(Path file, long size, String crc32c, String sha256) {

    /** Writes {@code size} pseudo-random bytes to a new temporary file; delete it with {@link #delete()}. */
    static BenchPayload write(long size) throws IOException {
        Path file = Files.createTempFile("cardnet-bench", ".bin");
        IntegrityCheck.Running crc = IntegrityCheck.CRC32C.start();
        IntegrityCheck.Running sha = IntegrityCheck.SHA256.start();
        byte[] block = new byte[1 << 20];
        SplittableRandom random = new SplittableRandom(size);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += block.length) {
                random.nextBytes(block);
                int n = (int) Math.min(block.length, size - written);
                out.write(block, 0, n);
                crc.update(block, 0, n);
                sha.update(block, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return new BenchPayload(file, size, crc.value(), sha.value());
    }

    /** The sender's value for {@code check}. */
    String value(IntegrityCheck check) {
        return switch (check) {
            case CRC32C -> crc32c;
            case SHA256 -> sha256;
        };
    }

    void delete() throws IOException {
        Files.deleteIfExists(file);
    }
}
