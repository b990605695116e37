/**
 * The connector SPI: what a protocol module implements so that a
 * {@link dev.tether.core.ResilientConnection} can drive it.
 *
 * <p>A {@link dev.tether.core.spi.Connector} opens one protocol session per
 * {@link dev.tether.core.spi.Attempt} and hands it back as an
 * {@link dev.tether.core.spi.EstablishedSession}; the engine owns everything else (the retry
 * pipeline, verdicts, credentials, the lifecycle stream). Applications use the connectors that
 * Tether's modules ship (MQTT, WebSocket) and need this package only to write their own.
 *
 * <p>Everything in this package is non-null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.tether.core.spi;

import org.jspecify.annotations.NullMarked;
