package deploy

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"stockd/feeds"
)

// The Kubernetes objects the tests read, decoded from the manifests.
type (
	k8sObject struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name        string            `yaml:"name"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Data       map[string]string `yaml:"data"`
		StringData map[string]string `yaml:"stringData"`
		Spec       yaml.Node         `yaml:"spec"`
	}
	deploymentSpec struct {
		Replicas int `yaml:"replicas"`
		Strategy struct {
			Type string `yaml:"type"`
		} `yaml:"strategy"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	}
	podSpec struct {
		TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
		Containers                    []container `yaml:"containers"`
		Volumes                       []volume    `yaml:"volumes"`
	}
	container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		Env []struct {
			Name      string `yaml:"name"`
			Value     string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef *struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"env"`
		StartupProbe   *probe `yaml:"startupProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	probe struct {
		HTTPGet struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
	}
	volume struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
	}
	serviceSpec struct {
		Ports []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	}
)

// k8sManifests are the objects of deploy/k8s by kind and name.
type k8sManifests map[string]k8sObject

func loadK8s(tb testing.TB, files ...string) k8sManifests {
	tb.Helper()
	objs := k8sManifests{}
	for _, f := range files {
		data := readFile(tb, path.Join("k8s", f))
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var o k8sObject
			if err := dec.Decode(&o); err != nil {
				if err.Error() == "EOF" {
					break
				}
				tb.Fatalf("k8s/%s: %v", f, err)
			}
			if o.Kind == "" || o.Metadata.Name == "" {
				tb.Fatalf("k8s/%s: an object without kind or name", f)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs
}

func (m k8sManifests) get(tb testing.TB, kindName string) k8sObject {
	tb.Helper()
	o, ok := m[kindName]
	if !ok {
		tb.Fatalf("no %s among the manifests", kindName)
	}
	return o
}

func decodeSpec[T any](tb testing.TB, o k8sObject) T {
	tb.Helper()
	var spec T
	if err := o.Spec.Decode(&spec); err != nil {
		tb.Fatalf("%s/%s spec: %v", o.Kind, o.Metadata.Name, err)
	}
	return spec
}

// kustomizeResources lists the manifests kustomization.yaml applies.
func kustomizeResources(tb testing.TB) []string {
	tb.Helper()
	var k struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
	decodeYAML(tb, "k8s/kustomization.yaml", &k)
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("k8s", r)); err != nil {
			tb.Errorf("kustomization resource %s: %v", r, err)
		}
	}
	return k.Resources
}

func TestKubernetesManifests(t *testing.T) {
	objs := loadK8s(t, kustomizeResources(t)...)
	secrets := loadK8s(t, "secret.example.yaml")
	dep := objs.get(t, "Deployment/stockd")
	spec := decodeSpec[deploymentSpec](t, dep)
	if spec.Replicas != 1 || spec.Strategy.Type != "Recreate" {
		t.Errorf("replicas %d, strategy %s: the ledger is one instance's memory, want 1 and Recreate", spec.Replicas, spec.Strategy.Type)
	}
	pod := spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !strings.HasPrefix(c.Image, "stockd") {
		t.Errorf("image %q, want stockd (renamed by kustomize)", c.Image)
	}
	if c.Args[0] != "serve" {
		t.Fatalf("args %v, want serve", c.Args)
	}

	// The config file is the stockd-config ConfigMap's key, mounted where --config reads it.
	configPath := argAfter(c.Args, "--config")
	mount, cm := c.mountOf(t, pod, configPath)
	if cm == "" {
		t.Fatalf("--config %s is not in a mounted ConfigMap (mount %q)", configPath, mount)
	}
	data, ok := objs.get(t, "ConfigMap/"+cm).Data[path.Base(configPath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm, path.Base(configPath))
	}
	cfg := parseStockdConfig(t, "k8s ConfigMap "+cm, []byte(data))

	// Ports, probes and the scrape annotations agree with http.listen.
	port := listenPort(t, cfg.engine)
	portName := ""
	for _, p := range c.Ports {
		if strconv.Itoa(p.ContainerPort) == port {
			portName = p.Name
		}
	}
	if portName == "" {
		t.Fatalf("no containerPort %s (http.listen)", port)
	}
	for name, tc := range map[string]struct {
		probe *probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}, "startup": {c.StartupProbe, "/healthz"}} {
		if tc.probe == nil || tc.probe.HTTPGet.Path != tc.path || (tc.probe.HTTPGet.Port != portName && tc.probe.HTTPGet.Port != port) {
			t.Errorf("%s probe %+v, want GET %s on port %s", name, tc.probe, tc.path, portName)
		}
	}
	for _, ann := range []map[string]string{spec.Template.Metadata.Annotations, objs.get(t, "Service/stockd").Metadata.Annotations} {
		if ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/scrape"] != "true" {
			t.Errorf("scrape annotations %v, want port %s path /metrics", ann, port)
		}
	}
	svc := decodeSpec[serviceSpec](t, objs.get(t, "Service/stockd"))
	if len(svc.Ports) != 1 || (svc.Ports[0].TargetPort != portName && svc.Ports[0].TargetPort != port) {
		t.Errorf("service ports %+v, want target %s", svc.Ports, portName)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	if grace := pod.TerminationGracePeriodSeconds; float64(grace) <= cfg.engine.ShutdownTimeout.Seconds() {
		t.Errorf("terminationGracePeriodSeconds %d is not above shutdown_timeout %v", grace, cfg.engine.ShutdownTimeout)
	}

	// Every secret the pod reads exists in the example Secret, and every
	// secret the config names is provided.
	env := map[string]bool{}
	for _, e := range c.Env {
		env[e.Name] = true
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if _, ok := secrets.get(t, "Secret/"+ref.Name).StringData[ref.Key]; !ok {
				t.Errorf("env %s reads secret %s key %s, not in secret.example.yaml", e.Name, ref.Name, ref.Key)
			}
		}
	}
	if !env["PGPASSWORD"] {
		t.Errorf("no PGPASSWORD for the journal database")
	}
	for _, f := range cfg.engine.Feeds {
		for _, ref := range []feeds.SecretRef{f.Account.ClientID, f.Account.APIKey, f.Account.Token, f.Account.PricesToken} {
			if ref.Env != "" && !env[ref.Env] {
				t.Errorf("feed %s reads env %s, which the pod does not set", f.Name, ref.Env)
			}
			if ref.File != "" {
				c.requireSecretFile(t, pod, secrets, ref.File)
			}
		}
		if f.Offers.File != "" {
			_, cm := c.mountOf(t, pod, f.Offers.File)
			if _, ok := objs.get(t, "ConfigMap/"+cm).Data[path.Base(f.Offers.File)]; cm == "" || !ok {
				t.Errorf("feed %s offers %s is not a key of a mounted ConfigMap", f.Name, f.Offers.File)
			}
		}
	}
	if cfg.telemetry.Tracing.OTLP.Endpoint == "" || !cfg.telemetry.Metrics.Prometheus {
		t.Errorf("telemetry %+v: want traces exported and /metrics served", cfg.telemetry)
	}
}

// mountOf returns the mount path holding file and the ConfigMap behind it
// ("" when the volume is not a ConfigMap).
func (c container) mountOf(tb testing.TB, pod podSpec, file string) (string, string) {
	tb.Helper()
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != m.MountPath {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				return m.MountPath, v.ConfigMap.Name
			}
		}
		return m.MountPath, ""
	}
	return "", ""
}

// requireSecretFile checks that file is an item of a mounted Secret volume
// whose key the example Secret has.
func (c container) requireSecretFile(tb testing.TB, pod podSpec, secrets k8sManifests, file string) {
	tb.Helper()
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != m.MountPath {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			idx := slices.IndexFunc(v.Secret.Items, func(it struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			}) bool {
				return it.Path == path.Base(file)
			})
			if idx < 0 {
				tb.Errorf("secret file %s: no item with path %s in volume %s", file, path.Base(file), v.Name)
				return
			}
			if _, ok := secrets.get(tb, "Secret/"+v.Secret.SecretName).StringData[v.Secret.Items[idx].Key]; !ok {
				tb.Errorf("secret file %s: key %s not in secret.example.yaml", file, v.Secret.Items[idx].Key)
			}
			return
		}
	}
	tb.Errorf("secret file %s is not in a mounted Secret", file)
}
