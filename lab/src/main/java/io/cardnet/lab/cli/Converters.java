package io.cardnet.lab.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** picocli converters for the units people type: 100ms, 2s, 1m; 64K, 1G, 1GiB. */
final class Converters {
    private Converters() {
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        private static final Pattern P = Pattern.compile("(\\d+)(ns|us|µs|ms|s|m)");

        @Override
        public Duration convert(String value) {
            Matcher m = P.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration; write e.g. 500ns, 50us, 100ms, 2s, 1m");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ns" -> Duration.ofNanos(n);
                case "us", "µs" -> Duration.ofNanos(n * 1000);
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
    }

    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        private static final Pattern P = Pattern.compile("(\\d+)([kmgt]?)(i?b)?");

        @Override
        public Long convert(String value) {
            Matcher m = P.matcher(value.trim().toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a size; write e.g. 65536, 64K, 1G (powers of 1024)");
            }
            long n = Long.parseLong(m.group(1));
            int shift = switch (m.group(2)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                case "t" -> 40;
                default -> 0;
            };
            return n << shift;
        }
    }

    /** "on" or "off", as options like --offload take them. */
    static boolean onOff(String value, String option) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException(option + " takes on or off, not '" + value + "'");
        };
    }

    /** HOST:PORT. */
    static java.net.InetSocketAddress hostPort(String value, String option) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(option + " takes HOST:PORT, e.g. 198.18.0.2:9, not '" + value + "'");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new java.net.InetSocketAddress(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value.substring(colon + 1) + "' is not a port (0..65535)");
        }
    }
}
