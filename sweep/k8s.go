package sweep

import (
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"
)

// JobOptions describe the Kubernetes Indexed Job that runs a sweep.
type JobOptions struct {
	// Name of the Job.
	Name string
	// Shards is the number of pods (completions); pod i runs the points with
	// index % Shards == i.
	Shards int
	// Parallelism is the pods running at once (default Shards).
	Parallelism int
	// Image is the fleetsim image (built locally: docs/sweeps.md).
	Image string
	// SweepConfigMap holds the sweep file (key sweep.yaml) and, for a scenario
	// file, the scenario (key scenario.yaml); mounted at /sweep.
	SweepConfigMap string
	// ResultsClaim is the PersistentVolumeClaim the shards write to, mounted at /results.
	ResultsClaim string
}

// Job returns the Indexed Job: one pod per shard, each running
// `fleetsim sweep /sweep/sweep.yaml --shard $(JOB_COMPLETION_INDEX)
// --shards N --resume --out /results`, the sweep file from a ConfigMap and
// the results on a shared volume, retried on failure (resume keeps the
// finished points).
func Job(o JobOptions) (*batchv1.Job, error) {
	if o.Shards < 1 || o.Shards > 10000 {
		return nil, fmt.Errorf("shards must be in [1, 10000], got %d", o.Shards)
	}
	if o.Name == "" || o.Image == "" || o.SweepConfigMap == "" || o.ResultsClaim == "" {
		return nil, fmt.Errorf("name, image, sweep config map and results claim are required")
	}
	par := o.Parallelism
	if par <= 0 {
		par = o.Shards
	}
	mode := batchv1.IndexedCompletion
	completions, parallelism := int32(o.Shards), int32(par)
	backoff := int32(3 * o.Shards)
	never := corev1.RestartPolicyNever
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: map[string]string{"app.kubernetes.io/name": "fleetsim-sweep"}},
		Spec: batchv1.JobSpec{
			CompletionMode: &mode,
			Completions:    &completions,
			Parallelism:    &parallelism,
			BackoffLimit:   &backoff,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "fleetsim-sweep"}},
				Spec: corev1.PodSpec{
					RestartPolicy: never,
					Containers: []corev1.Container{{
						Name:  "fleetsim",
						Image: o.Image,
						Args: []string{"sweep", "/sweep/sweep.yaml", "--shard", "$(JOB_COMPLETION_INDEX)",
							"--shards", strconv.Itoa(o.Shards), "--resume", "--out", "/results", "--quiet"},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "sweep", MountPath: "/sweep", ReadOnly: true},
							{Name: "results", MountPath: "/results"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "sweep", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: o.SweepConfigMap}}}},
						{Name: "results", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
							ClaimName: o.ResultsClaim}}},
					},
				},
			},
		},
	}, nil
}

// JobYAML is the Job as a YAML manifest.
func JobYAML(j *batchv1.Job) ([]byte, error) { return yaml.Marshal(j) }

// DecodeJob decodes a manifest with the Kubernetes API types (batch/v1),
// strictly: unknown fields and a wrong kind are errors.
func DecodeJob(data []byte) (*batchv1.Job, error) {
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	codecs := serializer.NewCodecFactory(scheme, serializer.EnableStrict)
	obj, gvk, err := codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, fmt.Errorf("decoded %v, want batch/v1 Job", gvk)
	}
	return j, nil
}
