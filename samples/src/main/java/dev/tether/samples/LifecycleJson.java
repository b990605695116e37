package dev.tether.samples;

import dev.tether.core.LifecycleEvent;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;

/**
 * Turns lifecycle events into what the samples print: an ordered map (for JSON lines and
 * Server-Sent Events) or one human line. Secrets never appear: events carry none.
 */
public final class LifecycleJson {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    private LifecycleJson() {
    }

    /**
     * @param e an event
     * @return the snake_case name of the event, e.g. {@code retry_scheduled}
     */
    public static String name(LifecycleEvent e) {
        String simple = e.getClass().getSimpleName();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < simple.length(); i++) {
            char c = simple.charAt(i);
            if (Character.isUpperCase(c) && i > 0) {
                sb.append('_');
            }
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    /**
     * @param e an event
     * @return its fields, ordered: time, generation, event, then the event's own
     */
    public static Map<String, Object> json(LifecycleEvent e) {
        Map<String, Object> o = new java.util.LinkedHashMap<>();
        o.put("time", e.timestamp().toString());
        o.put("generation", e.generation());
        o.put("event", name(e));
        if (e instanceof LifecycleEvent.Connecting c) {
            o.put("attempt", c.attempt());
            o.put("endpoint", c.endpoint().toString());
        } else if (e instanceof LifecycleEvent.Connected c) {
            o.put("endpoint", c.endpoint().toString());
            o.put("details", String.valueOf(c.details()));
        } else if (e instanceof LifecycleEvent.CredentialsRefreshed c) {
            o.put("reason", c.reason());
        } else if (e instanceof LifecycleEvent.Notice n) {
            o.put("kind", n.kind());
            o.put("details", String.valueOf(n.details()));
        } else if (e instanceof LifecycleEvent.CloseRequested c) {
            o.put("mode", c.mode().name().toLowerCase(Locale.ROOT));
        } else if (e instanceof LifecycleEvent.CloseSent c) {
            o.put("code", c.code());
            o.put("reason", c.reason());
        } else if (e instanceof LifecycleEvent.CloseReceived c) {
            o.put("code", c.code());
            o.put("reason", c.reason());
        } else if (e instanceof LifecycleEvent.Disconnected d) {
            o.put("initiator", d.initiator().name().toLowerCase(Locale.ROOT));
            o.put("code", d.code() < 0 ? null : d.code());
            o.put("reason", d.cause() == null ? null : message(d.cause()));
        } else if (e instanceof LifecycleEvent.RetryScheduled r) {
            o.put("attempt", r.nextAttempt());
            o.put("delay_ms", r.delay().toMillis());
            o.put("verdict", r.verdict().kind().name().toLowerCase(Locale.ROOT));
            o.put("reason", message(r.cause()));
        } else if (e instanceof LifecycleEvent.Closed c) {
            o.put("reason", c.cause() == null ? null : message(c.cause()));
        }
        return o;
    }

    /**
     * @param e an event
     * @return one line for a terminal
     */
    public static String human(LifecycleEvent e) {
        Map<String, Object> o = json(e);
        StringBuilder sb = new StringBuilder();
        sb.append(CLOCK.format(Instant.parse((String) o.remove("time")))).append("  #").append(o.remove("generation"))
                .append("  ").append(String.format("%-22s", o.remove("event")));
        o.forEach((k, v) -> {
            if (v != null) {
                sb.append(' ').append(k).append('=').append(v);
            }
        });
        return sb.toString();
    }

    /**
     * @param t a failure
     * @return its message, or its type when it has none
     */
    public static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
