package io.cardnet.link.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ByteRangeTest {

    @Test
    void singleRangesAreClampedToTheFile() {
        assertEquals(new ByteRange.Part(0, 99), ByteRange.of("bytes=0-99", 1000));
        assertEquals(new ByteRange.Part(900, 999), ByteRange.of("bytes=900-5000", 1000));
        assertEquals(new ByteRange.Part(500, 999), ByteRange.of("bytes=500-", 1000));
        assertEquals(new ByteRange.Part(990, 999), ByteRange.of("bytes=-10", 1000));
        assertEquals(new ByteRange.Part(0, 999), ByteRange.of("bytes=-5000", 1000));
    }

    @Test
    void rangesPastTheEndAreUnsatisfiable() {
        assertEquals(new ByteRange.Unsatisfiable(), ByteRange.of("bytes=1000-", 1000));
        assertEquals(new ByteRange.Unsatisfiable(), ByteRange.of("bytes=-0", 1000));
        assertEquals(new ByteRange.Unsatisfiable(), ByteRange.of("bytes=0-", 0));
    }

    @Test
    void whatThisServerDoesNotTakeMeansTheWholeFile() {
        assertEquals(new ByteRange.Whole(), ByteRange.of(null, 1000));
        assertEquals(new ByteRange.Whole(), ByteRange.of("bytes=0-1,5-6", 1000));
        assertEquals(new ByteRange.Whole(), ByteRange.of("items=0-1", 1000));
        assertEquals(new ByteRange.Whole(), ByteRange.of("bytes=9-3", 1000));
        assertEquals(new ByteRange.Whole(), ByteRange.of("bytes=x-3", 1000));
    }

    @Test
    void anEtagMatchesItselfItsWeakFormAndAStar() {
        FileMeta m = new FileMeta(10, "\"a-b\"", 0);
        assertEquals(true, m.matches("\"a-b\""));
        assertEquals(true, m.matches("\"x\", W/\"a-b\""));
        assertEquals(true, m.matches("*"));
        assertEquals(false, m.matches("\"a-c\""));
        assertEquals(false, m.matches(null));
    }
}
