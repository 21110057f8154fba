package io.cardnet.lab.soak;

/** Reads figures out of a Prometheus text exposition (what every lab process serves on /metrics). */
final class PrometheusText {
    private PrometheusText() {
    }

    /**
     * The sum of every series of {@code metric} whose labels contain {@code labelPart} ("" for all), or NaN if
     * there is none.
     */
    static double sum(String text, String metric, String labelPart) {
        double sum = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (!line.startsWith(metric) || line.length() <= metric.length()) {
                continue;
            }
            char next = line.charAt(metric.length());
            if (next != '{' && next != ' ') {
                continue; // another metric whose name starts the same
            }
            int close = line.lastIndexOf('}');
            String labels = next == '{' && close > 0 ? line.substring(metric.length(), close + 1) : "";
            if (!labels.contains(labelPart)) {
                continue;
            }
            String value = line.substring(Math.max(close + 1, metric.length())).strip().split("\\s+")[0];
            try {
                sum += Double.parseDouble(value);
                found = true;
            } catch (NumberFormatException e) {
                // not a sample line
            }
        }
        return found ? sum : Double.NaN;
    }
}
