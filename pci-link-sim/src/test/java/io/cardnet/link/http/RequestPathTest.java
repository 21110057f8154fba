package io.cardnet.link.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class RequestPathTest {

    private static String valid(String target) {
        return assertInstanceOf(RequestPath.Valid.class, RequestPath.parse(target)).path().relative();
    }

    private static String refused(String target) {
        return assertInstanceOf(RequestPath.Refused.class, RequestPath.parse(target)).reason();
    }

    @Test
    void ordinaryPathsAreRelativeToTheServedDirectory() {
        assertEquals("a/b.bin", valid("/a/b.bin"));
        assertEquals("a/b c", valid("/a/b%20c?x=1"));
        assertEquals("etc/passwd", valid("//etc/passwd"));
        assertEquals("etc/passwd", valid("/%2Fetc/passwd"));
        assertEquals("", valid("/"));
    }

    @Test
    void dotSegmentsBackslashesAndNulAreRefusedAsTraversal() {
        assertEquals("traversal", refused("/../etc/passwd"));
        assertEquals("traversal", refused("/a/%2e%2e/%2e%2e/etc/passwd"));
        assertEquals("traversal", refused("/a/./b"));
        assertEquals("traversal", refused("/a%5c..%5cb"));
        assertEquals("traversal", refused("/a%00b"));
    }

    @Test
    void targetsThatAreNotPathsAreMalformed() {
        assertEquals("malformed", refused("http://198.18.0.1/x"));
        assertEquals("malformed", refused("*"));
        assertEquals("malformed", refused("/bad%zz"));
    }

    @Test
    void aPathBecomesATargetAgainWithItsSpecialCharactersEncoded() {
        assertEquals("/a/b%20c", new RequestPath("a/b c").target());
    }
}
