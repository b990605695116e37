package dev.tether.mqtt.internal;

/** MQTT topic filter matching and validation. */
final class TopicFilters {

    private TopicFilters() {
    }

    /**
     * @param filter a valid topic filter
     * @param topic  a topic name
     * @return whether the filter matches the topic (wildcards at the first level never match {@code $} topics)
     */
    static boolean matches(String filter, String topic) {
        if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
            return false;
        }
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        int i = 0;
        for (; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (!f[i].equals("+") && !f[i].equals(t[i])) {
                return false;
            }
        }
        return i == t.length;
    }

    /**
     * @param filter a topic filter
     * @throws IllegalArgumentException if it is empty or uses wildcards wrongly
     */
    static void validate(String filter) {
        if (filter.isEmpty()) {
            throw new IllegalArgumentException("topicFilter must not be empty");
        }
        String[] levels = filter.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.contains("#") && (!level.equals("#") || i != levels.length - 1)) {
                throw new IllegalArgumentException("topicFilter '" + filter + "' may use '#' only as the whole last level");
            }
            if (level.contains("+") && !level.equals("+")) {
                throw new IllegalArgumentException("topicFilter '" + filter + "' may use '+' only as a whole level");
            }
        }
    }
}
