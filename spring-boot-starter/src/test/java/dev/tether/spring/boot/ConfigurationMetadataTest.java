package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.jayway.jsonpath.JsonPath;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The configuration metadata that IDEs read ({@code META-INF/spring-configuration-metadata.json}, generated at build
 * time and merged with {@code additional-spring-configuration-metadata.json}) describes every property of
 * {@link TetherProperties}: each property reachable without a map has its entry with a description and its default;
 * the properties of the named clients (map values, which the metadata format cannot name one by one) are each
 * described, with their default, in the description of {@code tether.mqtt.clients} / {@code tether.websocket.clients}.
 * A property added later without its description fails here.
 */
class ConfigurationMetadataTest {

    private static final Map<String, Map<String, Object>> PROPERTIES = load();

    @Test
    void everyPropertyOutsideTheClientMapsHasItsEntryWithADescriptionAndItsDefault() {
        List<String> checked = new ArrayList<>();
        walk(TetherProperties.class, "tether", (path, component, defaultValue) -> {
            Map<String, Object> entry = PROPERTIES.get(path);
            assertThat(entry).as("metadata entry of " + path).isNotNull();
            assertThat(String.valueOf(entry.get("description"))).as("description of " + path).isNotBlank()
                    .isNotEqualTo("null");
            if (defaultValue != null && !defaultValue.isEmpty()) {
                assertThat(String.valueOf(entry.get("defaultValue"))).as("default of " + path)
                        .isEqualToIgnoringCase(defaultValue);
            }
            checked.add(path);
        });
        assertThat(checked).contains("tether.websocket.server.listener", "tether.websocket.server.heartbeat.interval",
                "tether.health.first-connect-grace").hasSizeGreaterThan(20);
    }

    @Test
    void everyPropertyOfANamedClientIsDescribedWithItsDefaultInTheDescriptionOfItsMap() {
        assertClientsDescribed("tether.mqtt.clients", TetherProperties.MqttClient.class);
        assertClientsDescribed("tether.websocket.clients", TetherProperties.WebSocketClient.class);
    }

    @Test
    void theListenerValuesAreHinted() throws IOException {
        List<Object> values = JsonPath.read(json(), "$.hints[?(@.name == 'tether.websocket.server.listener')].values[*].value");
        assertThat(values).containsExactly("own", "spring");
    }

    private static void assertClientsDescribed(String map, Class<?> valueType) {
        Map<String, Object> entry = PROPERTIES.get(map);
        assertThat(entry).as(map).isNotNull();
        assertThat(String.valueOf(entry.get("type"))).contains(valueType.getName());
        String description = String.valueOf(entry.get("description"));
        List<String> described = new ArrayList<>();
        walk(valueType, "", (path, component, defaultValue) -> {
            String key = path.substring(1);
            if (defaultValue == null) {
                assertThat(description).as(map + " describes " + key).contains(" " + key + ": ");
            } else {
                String shown = defaultValue.isEmpty() ? "empty" : defaultValue;
                assertThat(description).as(map + " describes " + key + " with its default")
                        .contains(" " + key + " (default " + shown + "): ");
            }
            described.add(key);
        });
        assertThat(described).as(map).contains("endpoints", "reconnect.initial-delay", "jwt.token-endpoint.client-secret");
    }

    /** What to check for one leaf property. */
    private interface Leaf {
        void check(String path, RecordComponent component, @org.jspecify.annotations.Nullable String defaultValue);
    }

    /** Visits every leaf property of a properties record; records of TetherProperties nest, maps of records do not. */
    private static void walk(Class<?> record, String prefix, Leaf leaf) {
        RecordComponent[] components = record.getRecordComponents();
        Parameter[] parameters;
        try {
            parameters = record.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new)).getParameters();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String path = prefix + "." + kebab(c.getName());
            if (c.getType().isRecord() && c.getType().getDeclaringClass() == TetherProperties.class) {
                walk(c.getType(), path, leaf);
                continue;
            }
            if (Map.class.isAssignableFrom(c.getType()) && mapOfRecords(c.getGenericType())) {
                continue; // the named clients: checked through the description of the map
            }
            DefaultValue d = parameters[i].getAnnotation(DefaultValue.class);
            // @DefaultValue without a value on a list, map or record means "empty", not a default to show.
            leaf.check(path, c, d == null || d.value().length == 0 ? null : String.join(",", d.value()));
        }
    }

    private static boolean mapOfRecords(Type type) {
        return type instanceof ParameterizedType p && p.getActualTypeArguments()[1] instanceof Class<?> v && v.isRecord();
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
    }

    private static String json() throws IOException {
        try (InputStream in = ConfigurationMetadataTest.class.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("the generated configuration metadata").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, Map<String, Object>> load() {
        try {
            List<Map<String, Object>> properties = JsonPath.read(json(), "$.properties");
            Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
            properties.forEach(p -> byName.put(String.valueOf(p.get("name")), p));
            return byName;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
