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
        if (filter.equals(topic)) {
            return true;
        }
        // Level by level, without splitting: this runs for every delivered message and subscription.
        int fl = filter.length();
        int tl = topic.length();
        int fi = 0;
        int ti = 0;
        while (true) {
            int fe = filter.indexOf('/', fi);
            if (fe < 0) {
                fe = fl;
            }
            int fLen = fe - fi;
            if (fLen == 1 && filter.charAt(fi) == '#') {
                return true;
            }
            if (ti > tl) {
                return false; // the topic has no level left
            }
            int te = topic.indexOf('/', ti);
            if (te < 0) {
                te = tl;
            }
            boolean plus = fLen == 1 && filter.charAt(fi) == '+';
            if (!plus && (fLen != te - ti || !filter.regionMatches(fi, topic, ti, fLen))) {
                return false;
            }
            if (fe == fl) {
                return te == tl;
            }
            fi = fe + 1;
            ti = te + 1;
        }
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
