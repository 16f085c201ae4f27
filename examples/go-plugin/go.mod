// The goplug example. Here it builds in GOPATH mode (build.sh); with modules, the replace
// directive finds the SDK in this repository.
module qntx/examples/go-plugin

go 1.19

require (
	github.com/spf13/cobra v1.6.1
	go.uber.org/zap v1.23.0
	qntx/sdk-go v0.0.0
)

replace qntx/sdk-go => ../../sdk-go
