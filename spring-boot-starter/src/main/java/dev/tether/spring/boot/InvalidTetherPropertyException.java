package dev.tether.spring.boot;

import java.util.Objects;

/**
 * A Tether property the connection cannot be built with. Start-up stops with a failure analysis that names the
 * property, the bad value and what would be valid. A secret's value is never shown.
 */
public final class InvalidTetherPropertyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The full property name. */
    private final String property;
    /** The bad value as shown. */
    private final String value;
    /** What would be valid. */
    private final String valid;

    /**
     * @param property the full property name, e.g. {@code tether.mqtt.clients.telemetry.keep-alive}
     * @param value    the bad value as it should be shown (a secret already hidden)
     * @param valid    what would be valid
     */
    public InvalidTetherPropertyException(String property, String value, String valid) {
        super("Invalid value '" + value + "' of " + property + ": " + valid);
        this.property = Objects.requireNonNull(property, "property");
        this.value = Objects.requireNonNull(value, "value");
        this.valid = Objects.requireNonNull(valid, "valid");
    }

    /** @return the full property name */
    public String property() {
        return property;
    }

    /** @return the bad value as shown (a secret hidden) */
    public String value() {
        return value;
    }

    /** @return what would be valid */
    public String valid() {
        return valid;
    }
}
