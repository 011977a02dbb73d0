<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AppContext</name>
    <message>
        <source>Plugin &apos;{name}&apos;{version} ({source}) failed in {hook}: {error}</source>
        <translation>插件“{name}”{version}（{source}）在 {hook} 中出错：{error}</translation>
    </message>
    <message>
        <source>; it is disabled for this session</source>
        <translation>；本次运行中已停用该插件</translation>
    </message>
    <message>
        <source>Loading the model</source>
        <translation>加载模型</translation>
    </message>
</context>
<context>
    <name>BackgroundJob</name>
    <message>
        <source>{name} failed: {error}</source>
        <translation>{name}失败：{error}</translation>
    </message>
    <message>
        <source>{name} failed unexpectedly: {error}</source>
        <translation>{name}意外失败：{error}</translation>
    </message>
</context>
<context>
    <name>BatchDialog</name>
    <message>
        <source>Generate for many products</source>
        <translation>批量生成文案</translation>
    </message>
    <message>
        <source>(no brand style)</source>
        <translation>（不使用品牌风格）</translation>
    </message>
    <message>
        <source>Each product&apos;s language</source>
        <translation>按各商品的语言</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <source>Where the copy is written: the model on this computer, an inference server from Settings, or all servers at once (each product goes to the least busy one). Prompts, checks and scores stay here.</source>
        <translation>在哪里写文案：本机的模型、设置中的某台推理服务器，或同时使用所有服务器（每个商品交给最空闲的一台）。提示词、检查和评分都留在本机。</translation>
    </message>
    <message>
        <source>Selected products ({count})</source>
        <translation>选中的商品（{count}）</translation>
    </message>
    <message>
        <source>All products ({count})</source>
        <translation>全部商品（{count}）</translation>
    </message>
    <message>
        <source>Include drafts, archived and unpublished products ({count})</source>
        <translation>包括草稿、已归档和未发布的商品（{count}）</translation>
    </message>
    <message>
        <source>Copy is saved to the library as it is generated.</source>
        <translation>文案生成后随即保存到文案库。</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Kinds</source>
        <translation>文案类型</translation>
    </message>
    <message>
        <source>Candidates each</source>
        <translation>每项候选数</translation>
    </message>
    <message>
        <source>Brand style</source>
        <translation>品牌风格</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Run on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <source>Products</source>
        <translation>商品</translation>
    </message>
    <message>
        <source>This computer (the active model)</source>
        <translation>本机（当前模型）</translation>
    </message>
    <message>
        <source>Server {server}</source>
        <translation>服务器 {server}</translation>
    </message>
    <message>
        <source>All servers, least busy first ({count})</source>
        <translation>所有服务器，最空闲的优先（{count} 台）</translation>
    </message>
    <message>
        <source>Resuming…</source>
        <translation>继续中…</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>开始中…</translation>
    </message>
    <message>
        <source>Bulk generation</source>
        <translation>批量生成</translation>
    </message>
    <message>
        <source>Stopping; what is done is kept, the product in progress runs again on resume.</source>
        <translation>正在停止：已完成的会保留，进行中的商品在继续时重新生成。</translation>
    </message>
    <message>
        <source>{done} of {total} done</source>
        <translation>已完成 {done}/{total}</translation>
    </message>
    <message>
        <source>, {failed} failed</source>
        <translation>，{failed} 项失败</translation>
    </message>
    <message>
        <source>, about {minutes} min left</source>
        <translation>，约剩 {minutes} 分钟</translation>
    </message>
    <message>
        <source> ({rate:.1f} products per minute)</source>
        <translation>（每分钟 {rate:.1f} 个商品）</translation>
    </message>
    <message>
        <source>. Stopped: press Resume to go on.</source>
        <translation>。已停止：点“继续”接着生成。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>. Finished.</source>
        <translation>。已完成。</translation>
    </message>
</context>
<context>
    <name>CandidateCard</name>
    <message>
        <source>Sunk: rule broken</source>
        <translation>已沉底：违反规则</translation>
    </message>
    <message>
        <source>Rank {rank} of {count} · {total:.2f}</source>
        <translation>排名 {rank}/{count} · {total:.2f}</translation>
    </message>
    <message>
        <source>Weighted mean of the scores (weights from the brand style)</source>
        <translation>各项评分的加权平均（权重来自品牌风格）</translation>
    </message>
    <message>
        <source>Candidate {number}</source>
        <translation>候选 {number}</translation>
    </message>
    <message>
        <source>Why?</source>
        <translation>原因？</translation>
    </message>
    <message>
        <source>Show every scorer&apos;s explanation</source>
        <translation>查看每个评分器的说明</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>采用</translation>
    </message>
    <message>
        <source>Accept this copy (Ctrl+Shift+A); click again to undo</source>
        <translation>采用这条文案（Ctrl+Shift+A）；再点一次撤销</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>弃用</translation>
    </message>
    <message>
        <source>Reject this copy (Ctrl+Shift+R); click again to undo</source>
        <translation>弃用这条文案（Ctrl+Shift+R）；再点一次撤销</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Write this candidate again with a new seed</source>
        <translation>换一个随机种子重写这一条</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the text to the clipboard</source>
        <translation>把文本复制到剪贴板</translation>
    </message>
    <message>
        <source>Writing…</source>
        <translation>正在撰写…</translation>
    </message>
    <message>
        <source>(no text)</source>
        <translation>（无文本）</translation>
    </message>
    <message>
        <source>{tokens} tokens</source>
        <translation>{tokens} 个词元</translation>
    </message>
    <message>
        <source>{speed:.0f} tokens/s</source>
        <translation>{speed:.0f} 词元/秒</translation>
    </message>
    <message>
        <source>No scorers active</source>
        <translation>没有启用的评分器</translation>
    </message>
</context>
<context>
    <name>CatalogPanel</name>
    <message>
        <source>Search products</source>
        <translation>搜索商品</translation>
    </message>
    <message>
        <source>All products</source>
        <translation>全部商品</translation>
    </message>
    <message>
        <source>Without accepted copy</source>
        <translation>尚无采用文案</translation>
    </message>
    <message>
        <source>With accepted copy</source>
        <translation>已有采用文案</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>Add a product (Ctrl+N)</source>
        <translation>添加商品（Ctrl+N）</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>复制商品</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>Import products from a file (Ctrl+I)</source>
        <translation>从文件导入商品（Ctrl+I）</translation>
    </message>
    <message>
        <source>{name} (copy)</source>
        <translation>{name}（副本）</translation>
    </message>
    <message>
        <source>Delete product</source>
        <translation>删除商品</translation>
    </message>
    <message>
        <source>Delete “{name}”? Its generated copy stays in the library.</source>
        <translation>删除“{name}”？已生成的文案仍保留在文案库中。</translation>
    </message>
    <message>
        <source>No importer is active; see the Plugins tab.</source>
        <translation>没有启用的导入器，请查看“插件”页。</translation>
    </message>
    <message>
        <source>Bulk…</source>
        <translation>批量…</translation>
    </message>
    <message>
        <source>Generate copy for the selected or all products</source>
        <translation>为选中的或全部商品生成文案</translation>
    </message>
    <message>
        <source>Imported {count} products from {file}.</source>
        <translation>已从 {file} 导入 {count} 个商品。</translation>
    </message>
    <message>
        <source>Importing {file}</source>
        <translation>导入 {file}</translation>
    </message>
    <message>
        <source>{name} (draft)</source>
        <translation>{name}（草稿）</translation>
    </message>
    <message>
        <source>{name} (archived)</source>
        <translation>{name}（已归档）</translation>
    </message>
    <message>
        <source>{name} (unpublished)</source>
        <translation>{name}（未发布）</translation>
    </message>
    <message>
        <source>A draft, archived or unpublished product in the shop: bulk generation leaves it out unless you include drafts.</source>
        <translation>店铺中的草稿、已归档或未发布商品：批量生成默认不包括它，除非勾选包括草稿。</translation>
    </message>
</context>
<context>
    <name>ChartPanel</name>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>★ chosen</source>
        <translation>★ 已选</translation>
    </message>
    <message>
        <source>Nothing to show yet for this choice.</source>
        <translation>当前选择下还没有可显示的数据。</translation>
    </message>
    <message>
        <source>Export chart as PNG</source>
        <translation>将图表导出为 PNG</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <source>{path} could not be written; choose another file.</source>
        <translation>无法写入 {path}；请选择其他文件。</translation>
    </message>
    <message>
        <source>Export chart data as CSV</source>
        <translation>将图表数据导出为 CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <source>Compare candidates</source>
        <translation>对比候选文案</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>采用</translation>
    </message>
    <message>
        <source>characters</source>
        <translation>字</translation>
    </message>
    <message>
        <source>words</source>
        <translation>词</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>No scorers active</source>
        <translation>没有启用的评分器</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export accepted copy</source>
        <translation>导出已采用的文案</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Shop outbox</source>
        <translation>店铺发件箱</translation>
    </message>
    <message>
        <source>All products</source>
        <translation>全部商品</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <source>Any style</source>
        <translation>任意风格</translation>
    </message>
    <message>
        <source>Any language</source>
        <translation>任意语言</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <source>Only copy generated since</source>
        <translation>仅导出此日期之后生成的文案</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Save in the system keyring</source>
        <translation>保存到系统钥匙串</translation>
    </message>
    <message>
        <source>Shop address</source>
        <translation>店铺地址</translation>
    </message>
    <message>
        <source>API version</source>
        <translation>API 版本</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>导出到</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>商品</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Items the shop refused</source>
        <translation>店铺拒绝的条目</translation>
    </message>
    <message>
        <source>Admin API access token</source>
        <translation>Admin API 访问令牌</translation>
    </message>
    <message>
        <source>Consumer key</source>
        <translation>Consumer key（用户密钥）</translation>
    </message>
    <message>
        <source>Consumer secret</source>
        <translation>Consumer secret（用户私钥）</translation>
    </message>
    <message>
        <source>Enter the shop address.</source>
        <translation>请输入店铺地址。</translation>
    </message>
    <message>
        <source>Access key stored in the system keyring.</source>
        <translation>访问密钥已保存在系统钥匙串中。</translation>
    </message>
    <message>
        <source>No access key stored for this shop yet.</source>
        <translation>尚未为此店铺保存访问密钥。</translation>
    </message>
    <message>
        <source>Export to {shop}</source>
        <translation>导出到 {shop}</translation>
    </message>
    <message>
        <source>Choose the file to write.</source>
        <translation>请选择要写入的文件。</translation>
    </message>
    <message>
        <source>Export to {file}</source>
        <translation>导出到 {file}</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <source>Exported {count} accepted candidates of {products} products to {file}.</source>
        <translation>已将 {products} 个商品的 {count} 条已采用文案导出到 {file}。</translation>
    </message>
    <message>
        <source>{done} done, {failed} refused by the shop, {unfinished} not confirmed yet.</source>
        <translation>{done} 条完成，{failed} 条被店铺拒绝，{unfinished} 条尚未确认。</translation>
    </message>
    <message>
        <source>They stay in the outbox; resume them later.</source>
        <translation>它们保留在发件箱中，稍后可继续发送。</translation>
    </message>
    <message>
        <source>{count} products have no shop id and were skipped.</source>
        <translation>{count} 个商品没有店铺编号，已跳过。</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Shop</source>
        <translation>店铺</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>待发送</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <source>Last error</source>
        <translation>最近的错误</translation>
    </message>
    <message>
        <source>Show finished jobs</source>
        <translation>显示已完成的任务</translation>
    </message>
    <message>
        <source>Resume unfinished</source>
        <translation>继续未完成的任务</translation>
    </message>
    <message>
        <source>Cancel selected job</source>
        <translation>取消所选任务</translation>
    </message>
    <message>
        <source>{count} unfinished export jobs.</source>
        <translation>{count} 个未完成的导出任务。</translation>
    </message>
    <message>
        <source>Resuming unfinished jobs…</source>
        <translation>正在继续未完成的任务…</translation>
    </message>
    <message>
        <source>Resume shop exports</source>
        <translation>继续店铺导出</translation>
    </message>
</context>
<context>
    <name>FirstStart</name>
    <message>
        <source>AdCopy Desktop: first start</source>
        <translation>AdCopy 桌面版：首次启动</translation>
    </message>
    <message>
        <source>No model is installed yet. Installing the default model {name} ({licence} licence, by {publisher}) from this installer's copy, only this once…</source>
        <translation>尚未安装模型。正在从安装包自带的副本安装默认模型 {name}（{licence} 许可，发布方：{publisher}），仅此一次…</translation>
    </message>
    <message>
        <source>No model is installed yet. Building the default model {name} ({size:.1f} GB of weights, {licence} licence, by {publisher}) — about two minutes, only this once…</source>
        <translation>尚未安装模型。正在构建默认模型 {name}（权重 {size:.1f} GB，{licence} 许可，发布方：{publisher}），约需两分钟，仅此一次…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>The default model could not be built:

{message}

AdCopy opens anyway; import a model in the Models tab or build the default one there.</source>
        <translation>无法构建默认模型：

{message}

AdCopy 仍会打开；请在“模型”页导入模型或在那里构建默认模型。</translation>
    </message>
    <message>
        <source>Building the default model was cancelled. AdCopy opens anyway; build it or import a model in the Models tab.</source>
        <translation>已取消构建默认模型。AdCopy 仍会打开；请在“模型”页构建默认模型或导入模型。</translation>
    </message>
</context>
<context>
    <name>GenerationPanel</name>
    <message>
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>Short</source>
        <translation>短</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>Long</source>
        <translation>长</translation>
    </message>
    <message>
        <source>Exact…</source>
        <translation>指定…</translation>
    </message>
    <message>
        <source>Target length: characters for Chinese, words for English</source>
        <translation>目标长度：中文按字数，英文按词数</translation>
    </message>
    <message>
        <source>e.g. playful, premium, 专业</source>
        <translation>例如：活泼、高端、专业</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Generate candidates (Ctrl+Enter)</source>
        <translation>生成候选文案（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop generating (Esc)</source>
        <translation>停止生成（Esc）</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Show the candidates side by side</source>
        <translation>并排对比候选文案</translation>
    </message>
    <message>
        <source>Copy kind</source>
        <translation>文案类型</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Tone</source>
        <translation>语气</translation>
    </message>
    <message>
        <source>Brand style</source>
        <translation>品牌风格</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Candidates</source>
        <translation>候选数</translation>
    </message>
    <message>
        <source>Listing the servers&apos; models</source>
        <translation>正在列出服务器上的模型</translation>
    </message>
    <message>
        <source>Active model</source>
        <translation>当前模型</translation>
    </message>
    <message>
        <source>{server}: listing models…</source>
        <translation>{server}：正在列出模型…</translation>
    </message>
    <message>
        <source>{server}: not reachable</source>
        <translation>{server}：无法连接</translation>
    </message>
    <message>
        <source>{server}: no models</source>
        <translation>{server}：没有模型</translation>
    </message>
    <message>
        <source>{server}: {model}</source>
        <translation>{server}：{model}</translation>
    </message>
    <message>
        <source>{model} on the inference server {server}: the copy is written there, checked and scored here</source>
        <translation>推理服务器 {server} 上的 {model}：文案在服务器上生成，在本机检查和评分</translation>
    </message>
    <message>
        <source>None</source>
        <translation>无</translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <source>Import products</source>
        <translation>导入商品</translation>
    </message>
    <message>
        <source>Choose file…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <source>Detect</source>
        <translation>自动识别</translation>
    </message>
    <message>
        <source>Shopify product CSV</source>
        <translation>Shopify 商品 CSV</translation>
    </message>
    <message>
        <source>WooCommerce product CSV</source>
        <translation>WooCommerce 商品 CSV</translation>
    </message>
    <message>
        <source>CSV with a column mapping</source>
        <translation>按列映射读取的 CSV</translation>
    </message>
    <message>
        <source>Excel workbook (XLSX)</source>
        <translation>Excel 工作簿（XLSX）</translation>
    </message>
    <message>
        <source>JSON lines</source>
        <translation>JSON Lines</translation>
    </message>
    <message>
        <source>Column mapping</source>
        <translation>列映射</translation>
    </message>
    <message>
        <source>Product name</source>
        <translation>商品名称</translation>
    </message>
    <message>
        <source>Product id</source>
        <translation>商品编号</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Facts (attributes)</source>
        <translation>商品属性</translation>
    </message>
    <message>
        <source>Row</source>
        <translation>行</translation>
    </message>
    <message>
        <source>Column</source>
        <translation>列</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>Encoding</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>Products ({patterns})</source>
        <translation>商品文件（{patterns}）</translation>
    </message>
    <message>
        <source>Reading {file}…</source>
        <translation>正在读取 {file}…</translation>
    </message>
    <message>
        <source>Previewing {file}</source>
        <translation>预览 {file}</translation>
    </message>
    <message>
        <source>No importer reads this kind of file; see the Plugins tab.</source>
        <translation>没有导入器能读取这类文件，请查看“插件”页。</translation>
    </message>
    <message>
        <source>Read by the importer “{name}” (no preview).</source>
        <translation>由导入器“{name}”读取（无预览）。</translation>
    </message>
    <message>
        <source>Format: {format}</source>
        <translation>格式：{format}</translation>
    </message>
    <message>
        <source>encoding: {encoding} ({confidence:.0%} sure: {reason})</source>
        <translation>编码：{encoding}（把握 {confidence:.0%}：{reason}）</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Column mapping (saved for these columns)</source>
        <translation>列映射（已为这些列保存）</translation>
    </message>
    <message>
        <source>Column mapping (proposed: check it)</source>
        <translation>列映射（自动建议，请核对）</translation>
    </message>
    <message>
        <source>Importing {file}…</source>
        <translation>正在导入 {file}…</translation>
    </message>
    <message>
        <source>Importing {file}</source>
        <translation>导入 {file}</translation>
    </message>
    <message>
        <source>Stopped; nothing was added to the library.</source>
        <translation>已停止，没有向文案库添加任何内容。</translation>
    </message>
    <message>
        <source>Imported {products} products ({added} new, {updated} updated, {unchanged} unchanged) from {rows} rows; {skipped} rows skipped.</source>
        <translation>已从 {rows} 行导入 {products} 个商品（新增 {added} 个，更新 {updated} 个，未变 {unchanged} 个）；跳过 {skipped} 行。</translation>
    </message>
    <message>
        <source>{inactive} of them are drafts, archived or unpublished in the shop and are marked so in the library.</source>
        <translation>其中 {inactive} 个在店铺中是草稿、已归档或未发布，已在文案库中标记。</translation>
    </message>
    <message>
        <source>note: {message}</source>
        <translation>提示：{message}</translation>
    </message>
    <message>
        <source>Imported {count} products from {file}.</source>
        <translation>已从 {file} 导入 {count} 个商品。</translation>
    </message>
</context>
<context>
    <name>InsightsPage</name>
    <message>
        <source>Per week</source>
        <translation>按周</translation>
    </message>
    <message>
        <source>Per day</source>
        <translation>按天</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Brand style</source>
        <translation>品牌风格</translation>
    </message>
    <message>
        <source>Decisions</source>
        <translation>决策</translation>
    </message>
    <message>
        <source>Scores</source>
        <translation>评分</translation>
    </message>
    <message>
        <source>Sinking rules</source>
        <translation>致沉规则</translation>
    </message>
    <message>
        <source>Generation</source>
        <translation>单次生成</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Gate</source>
        <translation>评估关卡</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Exports</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Reading the library…</source>
        <translation>正在读取文案库…</translation>
    </message>
    <message>
        <source>Insights</source>
        <translation>洞察</translation>
    </message>
    <message>
        <source>All shops</source>
        <translation>所有店铺</translation>
    </message>
    <message>
        <source>{candidates} candidates in this selection</source>
        <translation>当前选择共 {candidates} 条候选文案</translation>
    </message>
    <message>
        <source>All styles</source>
        <translation>所有风格</translation>
    </message>
    <message>
        <source>No brand style</source>
        <translation>无品牌风格</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Edited</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Share of candidates</source>
        <translation>占候选文案的比例</translation>
    </message>
    <message>
        <source>Of the candidates generated in each period, the share accepted, rejected and edited by you (automatic acceptances of bulk generation count as accepted).</source>
        <translation>每个时间段生成的候选文案中，被你接受、拒绝和编辑的比例（批量生成的自动接受也计为接受）。</translation>
    </message>
    <message>
        <source>Mean score</source>
        <translation>平均分</translation>
    </message>
    <message>
        <source>The mean of each scorer&apos;s verdicts (0 to 1) on the candidates generated in each period.</source>
        <translation>每个时间段生成的候选文案上，各评分器评分（0 到 1）的平均值。</translation>
    </message>
    <message>
        <source> (warning)</source>
        <translation>（警告）</translation>
    </message>
    <message>
        <source>Candidates</source>
        <translation>候选文案</translation>
    </message>
    <message>
        <source>Hard failures of the scorers (advertising-law terms, channel limits, …) and the brand style&apos;s rules (forbidden words sink; warnings only flag), by how many candidates they hit.</source>
        <translation>评分器的硬性失败（广告法用语、渠道限制等）和品牌风格规则（禁用词会使文案沉底；警告只做标记），按命中的候选文案数量排列。</translation>
    </message>
    <message>
        <source>Total score</source>
        <translation>总分</translation>
    </message>
    <message>
        <source>#{position}</source>
        <translation>#{position}</translation>
    </message>
    <message>
        <source> chosen</source>
        <translation> 已选</translation>
    </message>
    <message>
        <source> sunk</source>
        <translation> 沉底</translation>
    </message>
    <message>
        <source>Weighted total</source>
        <translation>加权总分</translation>
    </message>
    <message>
        <source>Each candidate&apos;s weighted total of its scores; the accepted candidate is drawn in the highlight colour with a star, the others in grey.</source>
        <translation>每条候选文案各项评分的加权总分；被接受的候选文案以高亮色显示并标有星号，其余为灰色。</translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>Held-out loss</source>
        <translation>留出集损失</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>The training loss per step and the held-out loss at each evaluation (step 0: the model it was trained from).</source>
        <translation>每一步的训练损失和每次评估时的留出集损失（第 0 步：训练所基于的模型）。</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>Old</source>
        <translation>旧</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>The gate&apos;s held-out figures of the model it was trained from (old) and of this version (new); its answer: {decision}.</source>
        <translation>评估关卡在留出集上对原模型（旧）和此版本（新）的指标；结论：{decision}。</translation>
    </message>
    <message>
        <source>Metric</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>{model} (base model)</source>
        <translation>{model}（基础模型）</translation>
    </message>
    <message>
        <source>Gate: {decision}</source>
        <translation>评估关卡：{decision}</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>当前使用</translation>
    </message>
    <message>
        <source>Base model (no held-out figures)</source>
        <translation>基础模型（无留出集指标）</translation>
    </message>
    <message>
        <source>{metric} (lower is better)</source>
        <translation>{metric}（越低越好）</translation>
    </message>
    <message>
        <source>{metric} (higher is better)</source>
        <translation>{metric}（越高越好）</translation>
    </message>
    <message>
        <source>Trained versions by the time they were made, at the chosen held-out figure and named by their version, one line per brand style they were trained for; the marker&apos;s shape is the gate&apos;s answer and a ring marks the active versions (the default model, or a style&apos;s). Base models are dashed lines: they have no held-out figures of their own.</source>
        <translation>按创建时间排列的训练版本，位于所选的留出集指标处并标出版本号，每个训练所针对的品牌风格一条线；标记的形状表示评估关卡的结论，圆环标出当前使用的版本（默认模型，或某个风格的模型）。基础模型为虚线：它们自身没有留出集指标。</translation>
    </message>
    <message>
        <source>{model} (active)</source>
        <translation>{model}（当前使用）</translation>
    </message>
    <message>
        <source>{model} (active for {styles})</source>
        <translation>{model}（{styles} 当前使用）</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>已发送</translation>
    </message>
    <message>
        <source>Confirmed</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <source>Items</source>
        <translation>条目</translation>
    </message>
    <message>
        <source>Export items sent to the shop, confirmed by it and refused by it, per period.</source>
        <translation>每个时间段发送到店铺、被店铺确认和被店铺拒绝的导出条目。</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Accepted</source>
        <translation>已采用</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>已弃用</translation>
    </message>
    <message>
        <source>Undecided</source>
        <translation>未决定</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stop string</source>
        <translation>遇到停止词</translation>
    </message>
    <message>
        <source>length limit</source>
        <translation>达到长度上限</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>built-in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>installed package</source>
        <translation>已安装的包</translation>
    </message>
    <message>
        <source>plugin folder</source>
        <translation>插件文件夹</translation>
    </message>
    <message>
        <source>registered</source>
        <translation>已注册</translation>
    </message>
    <message>
        <source>(empty product)</source>
        <translation>（空商品）</translation>
    </message>
    <message>
        <source>From the product</source>
        <translation>按商品语言</translation>
    </message>
</context>
<context>
    <name>LibraryView</name>
    <message>
        <source>Learned quality model: not trained yet ({decisions} decisions so far; it needs at least {needed} accepted and {needed} rejected).</source>
        <translation>学习型质量模型：尚未训练（目前 {decisions} 条决定；至少需要 {needed} 条采用和 {needed} 条弃用）。</translation>
    </message>
    <message>
        <source>Learned quality model: held-out ROC-AUC {auc} on {examples} examples; used for ranking.</source>
        <translation>学习型质量模型：留出集 ROC-AUC {auc}（{examples} 条样本）；已用于排序。</translation>
    </message>
    <message>
        <source>Learned quality model: held-out ROC-AUC {auc} on {examples} examples; not used for ranking yet ({reason}).</source>
        <translation>学习型质量模型：留出集 ROC-AUC {auc}（{examples} 条样本）；暂不用于排序（{reason}）。</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <source>Any decision</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <source>Any time</source>
        <translation>任意时间</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>From – to</source>
        <translation>自定义日期</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>商品</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>决定</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文案</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>采用</translation>
    </message>
    <message>
        <source>Reject</source>
        <translation>弃用</translation>
    </message>
    <message>
        <source>Clear decision</source>
        <translation>清除决定</translation>
    </message>
    <message>
        <source>Open product</source>
        <translation>打开商品</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Export accepted…</source>
        <translation>导出已采用…</translation>
    </message>
    <message>
        <source>Write the accepted copy that matches the filters to a file</source>
        <translation>把符合筛选条件的已采用文案写入文件</translation>
    </message>
    <message>
        <source>All products</source>
        <translation>全部商品</translation>
    </message>
    <message>
        <source>Any style</source>
        <translation>全部风格</translation>
    </message>
    <message>
        <source>(deleted) #{id}</source>
        <translation>（已删除）#{id}</translation>
    </message>
    <message>
        <source>{count} candidates</source>
        <translation>{count} 条候选</translation>
    </message>
    <message>
        <source>Model: {model}</source>
        <translation>模型：{model}</translation>
    </message>
    <message>
        <source>Settings: temperature {temperature}, top-p {top_p}, seed {seed}, up to {tokens} new tokens</source>
        <translation>设置：温度 {temperature}，top-p {top_p}，种子 {seed}，最多 {tokens} 个新词元</translation>
    </message>
    <message>
        <source>Finish: {reason}</source>
        <translation>结束：{reason}</translation>
    </message>
    <message>
        <source>Edited; the model wrote: {text}</source>
        <translation>已编辑；模型原文：{text}</translation>
    </message>
    <message>
        <source>No exporter is active; see the Plugins tab.</source>
        <translation>没有启用的导出器，请查看“插件”页。</translation>
    </message>
    <message>
        <source>Exported {count} accepted candidates to {file}.</source>
        <translation>已将 {count} 条已采用文案导出到 {file}。</translation>
    </message>
    <message>
        <source>Export to {file}</source>
        <translation>导出到 {file}</translation>
    </message>
    <message>
        <source>{count} shop exports are unfinished; File → Shop outbox… resumes them.</source>
        <translation>有 {count} 个店铺导出未完成；可在“文件 → 店铺发件箱…”中继续。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Runs on: {provider}</source>
        <translation>运行于：{provider}</translation>
    </message>
    <message>
        <source>AdCopy Desktop</source>
        <translation>AdCopy 桌面版</translation>
    </message>
    <message>
        <source>Writer</source>
        <translation>撰写</translation>
    </message>
    <message>
        <source>Library</source>
        <translation>文案库</translation>
    </message>
    <message>
        <source>Plugins</source>
        <translation>插件</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Insights</source>
        <translation>洞察</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>New product</source>
        <translation>新建商品</translation>
    </message>
    <message>
        <source>Import products…</source>
        <translation>导入商品…</translation>
    </message>
    <message>
        <source>Generate for many products…</source>
        <translation>批量生成文案…</translation>
    </message>
    <message>
        <source>Export accepted copy…</source>
        <translation>导出已采用文案…</translation>
    </message>
    <message>
        <source>Shop outbox…</source>
        <translation>店铺发件箱…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>文案(&amp;C)</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Accept current candidate</source>
        <translation>采用当前候选</translation>
    </message>
    <message>
        <source>Reject current candidate</source>
        <translation>弃用当前候选</translation>
    </message>
    <message>
        <source>Regenerate current candidate</source>
        <translation>重新生成当前候选</translation>
    </message>
    <message>
        <source>Copy current candidate</source>
        <translation>复制当前候选</translation>
    </message>
    <message>
        <source>Compare candidates</source>
        <translation>对比候选文案</translation>
    </message>
    <message>
        <source>Go to candidate {number}</source>
        <translation>转到候选 {number}</translation>
    </message>
    <message>
        <source>Next product</source>
        <translation>下一个商品</translation>
    </message>
    <message>
        <source>Previous product</source>
        <translation>上一个商品</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Open log folder</source>
        <translation>打开日志文件夹</translation>
    </message>
    <message>
        <source>The folder of AdCopy&apos;s log files (rotated, secrets removed)</source>
        <translation>AdCopy 日志文件所在的文件夹（自动轮换，已去除密钥）</translation>
    </message>
    <message>
        <source>Copy diagnostics…</source>
        <translation>复制诊断信息…</translation>
    </message>
    <message>
        <source>Save a zip for support: versions, plugins, models, settings, recent logs; secrets removed</source>
        <translation>为技术支持保存一个 zip：版本、插件、模型、设置、近期日志；已去除密钥</translation>
    </message>
    <message>
        <source>About AdCopy</source>
        <translation>关于 AdCopy</translation>
    </message>
    <message>
        <source>Go to candidate 1–8</source>
        <translation>转到候选 1–8</translation>
    </message>
    <message>
        <source>Save product</source>
        <translation>保存商品</translation>
    </message>
    <message>
        <source>AdCopy Desktop {version}: marketing copy from a language model that runs on this computer. Nothing leaves the computer unless you export it.</source>
        <translation>AdCopy 桌面版 {version}：由在本机运行的语言模型撰写营销文案。除非你导出，任何内容都不会离开这台电脑。</translation>
    </message>
    <message>
        <source>The log files are in {folder}</source>
        <translation>日志文件位于 {folder}</translation>
    </message>
    <message>
        <source>Save diagnostics</source>
        <translation>保存诊断信息</translation>
    </message>
    <message>
        <source>Zip archives (*.zip)</source>
        <translation>Zip 压缩包 (*.zip)</translation>
    </message>
    <message>
        <source>Diagnostics saved to {path} and copied to the clipboard; tokens, passwords and keys were removed. Attach the file to your support request.</source>
        <translation>诊断信息已保存到 {path} 并复制到剪贴板；令牌、密码和密钥已去除。请将该文件附在你的支持请求中。</translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation>诊断信息</translation>
    </message>
    <message>
        <source>No model installed — see the Models tab</source>
        <translation>未安装模型——请查看“模型”页</translation>
    </message>
    <message>
        <source>Model: {name} ({languages})</source>
        <translation>模型：{name}（{languages}）</translation>
    </message>
    <message>
        <source>Working: {jobs}</source>
        <translation>正在进行：{jobs}</translation>
    </message>
    <message>
        <source>The interface language changes the next time AdCopy starts.</source>
        <translation>界面语言将在下次启动 AdCopy 时更改。</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Writer, Library, Plugins, Models, Training</source>
        <translation>撰写、文案库、插件、模型、训练</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>+{count} more</source>
        <translation>另有 {count} 条</translation>
    </message>
</context>
<context>
    <name>ModelManagerPage</name>
    <message>
        <source>Active</source>
        <translation>当前</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Languages</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Origin</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>Disk use</source>
        <translation>磁盘占用</translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation>使用此模型</translation>
    </message>
    <message>
        <source>Import model folder…</source>
        <translation>导入模型文件夹…</translation>
    </message>
    <message>
        <source>Import GGUF file…</source>
        <translation>导入 GGUF 文件…</translation>
    </message>
    <message>
        <source>Build default model</source>
        <translation>构建默认模型</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Export for a server…</source>
        <translation>导出给服务器…</translation>
    </message>
    <message>
        <source>Write the selected model (a trained version with its adapter merged in) as a Hugging Face folder for vLLM, TGI or llama.cpp&apos;s converter, checked against the model AdCopy runs.</source>
        <translation>把选中的模型（训练出的版本，已合并其适配器）写成 Hugging Face 文件夹，供 vLLM、TGI 或 llama.cpp 的转换工具使用，并与 AdCopy 运行的模型核对。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Import a Hugging Face folder (config.json, *.safetensors, tokenizer.json) or a .gguf file of an instruction-tuned model; Qwen2.5 Instruct writes Chinese.</source>
        <translation>导入指令微调模型的 Hugging Face 文件夹（config.json、*.safetensors、tokenizer.json）或 .gguf 文件；Qwen2.5 Instruct 可以写中文。</translation>
    </message>
    <message>
        <source>built in, from {origin}</source>
        <translation>内置，来自 {origin}</translation>
    </message>
    <message>
        <source>default model, built from {file}</source>
        <translation>默认模型，由 {file} 构建</translation>
    </message>
    <message>
        <source>GGUF file {path}</source>
        <translation>GGUF 文件 {path}</translation>
    </message>
    <message>
        <source>model folder {path}</source>
        <translation>模型文件夹 {path}</translation>
    </message>
    <message>
        <source>Imported by you: its licence is in the model&apos;s own files or model card.</source>
        <translation>你导入的模型：许可证见模型自带的文件或模型卡。</translation>
    </message>
    <message>
        <source>{name}, published by {publisher}
{url}</source>
        <translation>{name}，发布者：{publisher}
{url}</translation>
    </message>
    <message>
        <source>{size} (adapter)</source>
        <translation>{size}（适配器）</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>damaged: {problem}</source>
        <translation>已损坏：{problem}</translation>
    </message>
    <message>
        <source>Import a model folder</source>
        <translation>导入模型文件夹</translation>
    </message>
    <message>
        <source>Import a GGUF file</source>
        <translation>导入 GGUF 文件</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Importing {name}</source>
        <translation>导入 {name}</translation>
    </message>
    <message>
        <source>Export {name} for a server: choose a folder</source>
        <translation>导出 {name} 给服务器：选择文件夹</translation>
    </message>
    <message>
        <source>Exporting {name}</source>
        <translation>正在导出 {name}</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>导出已取消，未写入任何内容。</translation>
    </message>
    <message>
        <source>Building the default model</source>
        <translation>构建默认模型</translation>
    </message>
    <message>
        <source>Cancelled; nothing was installed.</source>
        <translation>已取消，未安装任何内容。</translation>
    </message>
    <message>
        <source>Model {name} is ready.</source>
        <translation>模型 {name} 已就绪。</translation>
    </message>
    <message>
        <source>Exported {name} to {folder} ({size}).</source>
        <translation>已将 {name} 导出到 {folder}（{size}）。</translation>
    </message>
    <message>
        <source>Its next-token choices agree with the model AdCopy runs at {share} of the checked positions.</source>
        <translation>在检查的位置中，它有 {share} 的下一个词元选择与 AdCopy 运行的模型一致。</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Held-out metrics</source>
        <translation>留出集指标</translation>
    </message>
    <message>
        <source>Roll back to this version</source>
        <translation>回滚到此版本</translation>
    </message>
    <message>
        <source>Make the selected version active again (for its brand style, if it was trained for one).</source>
        <translation>重新启用所选版本（如果它是为某个品牌风格训练的，则只用于该风格）。</translation>
    </message>
    <message>
        <source>style {names}</source>
        <translation>风格 {names}</translation>
    </message>
    <message>
        <source>base</source>
        <translation>基础模型</translation>
    </message>
    <message>
        <source>v{number} from {parent}</source>
        <translation>v{number}，由 {parent} 训练</translation>
    </message>
    <message>
        <source>, style {name}</source>
        <translation>，风格 {name}</translation>
    </message>
    <message>
        <source>none recorded</source>
        <translation>未记录</translation>
    </message>
    <message>
        <source> for style {name}</source>
        <translation>（风格 {name}）</translation>
    </message>
    <message>
        <source>Rolled back{scope}: {id} is active.</source>
        <translation>已回滚{scope}：当前使用 {id}。</translation>
    </message>
</context>
<context>
    <name>PluginManagerPage</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Error / provides</source>
        <translation>错误 / 提供的功能</translation>
    </message>
    <message>
        <source>Installed from</source>
        <translation>安装来源</translation>
    </message>
    <message>
        <source>Enable</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Disable</source>
        <translation>停用</translation>
    </message>
    <message>
        <source>Install from wheel…</source>
        <translation>从 wheel 文件安装…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Reload plugins</source>
        <translation>重新加载插件</translation>
    </message>
    <message>
        <source>Changes apply at once; plugins that fail are disabled for the session and the rest of the app goes on.</source>
        <translation>更改立即生效；出错的插件会在本次运行中停用，应用的其余部分照常工作。</translation>
    </message>
    <message>
        <source>part of AdCopy</source>
        <translation>AdCopy 自带</translation>
    </message>
    <message>
        <source>Source: {source}</source>
        <translation>来源：{source}</translation>
    </message>
    <message>
        <source>sha256: {sha}</source>
        <translation>sha256：{sha}</translation>
    </message>
    <message>
        <source>not recorded (installed with pip)</source>
        <translation>未记录（用 pip 安装）</translation>
    </message>
    <message>
        <source>Installed: {time}</source>
        <translation>安装时间：{time}</translation>
    </message>
    <message>
        <source>Signed: yes</source>
        <translation>已签名：是</translation>
    </message>
    <message>
        <source>Signed: no</source>
        <translation>已签名：否</translation>
    </message>
    <message>
        <source>Signed: yes, by {signer} (key {key})</source>
        <translation>已签名：是，签名者 {signer}（密钥 {key}）</translation>
    </message>
    <message>
        <source>Runs in: its own plugin host process</source>
        <translation>运行于：独立的插件宿主进程</translation>
    </message>
    <message>
        <source>Runs in: the app&apos;s process</source>
        <translation>运行于：应用自身的进程</translation>
    </message>
    <message>
        <source>active</source>
        <translation>已启用</translation>
    </message>
    <message>
        <source>disabled</source>
        <translation>已停用</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>出错</translation>
    </message>
    <message>
        <source>Install a plugin</source>
        <translation>安装插件</translation>
    </message>
    <message>
        <source>Plugin wheels (*.whl)</source>
        <translation>插件 wheel 文件 (*.whl)</translation>
    </message>
    <message>
        <source>Install an unsigned plugin?</source>
        <translation>安装未签名的插件？</translation>
    </message>
    <message>
        <source>{file} ({name} {version}) is not signed, so AdCopy cannot tell who built it.</source>
        <translation>{file}（{name} {version}）没有签名，AdCopy 无法确认它由谁构建。</translation>
    </message>
    <message>
        <source>sha256: {sha}
Compare it with the one the plugin&apos;s author published. The plugin runs in its own process without your shop keys, but with your user&apos;s rights: it can read and change your files and use the network.</source>
        <translation>sha256：{sha}
请与插件作者公布的值核对。插件在独立进程中运行，拿不到您的店铺密钥，但拥有您这个用户的权限：它可以读取和修改您的文件，也可以联网。</translation>
    </message>
    <message>
        <source>Install</source>
        <translation>安装</translation>
    </message>
    <message>
        <source>Installed {name} {version}.</source>
        <translation>已安装 {name} {version}。</translation>
    </message>
    <message>
        <source>it was not found after unpacking</source>
        <translation>解包后未找到该插件</translation>
    </message>
    <message>
        <source>{name} is installed but does not load: {reason}</source>
        <translation>{name} 已安装但无法加载：{reason}</translation>
    </message>
    <message>
        <source>Installing {file}</source>
        <translation>安装 {file}</translation>
    </message>
</context>
<context>
    <name>ProductEditor</name>
    <message>
        <source>Name (optional; a name or title attribute is used otherwise)</source>
        <translation>名称（可选；否则使用名称或标题属性）</translation>
    </message>
    <message>
        <source>Paste a whole product: 类型#上衣*材质#牛仔布*颜色#白色, &apos;key: value&apos; lines or JSON</source>
        <translation>粘贴完整商品：类型#上衣*材质#牛仔布*颜色#白色、每行“键: 值”或 JSON</translation>
    </message>
    <message>
        <source>Use pasted text</source>
        <translation>使用粘贴内容</translation>
    </message>
    <message>
        <source>Replace the attribute rows with the pasted product</source>
        <translation>用粘贴的商品替换属性行</translation>
    </message>
    <message>
        <source>Attribute</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Add row</source>
        <translation>添加行</translation>
    </message>
    <message>
        <source>Remove row</source>
        <translation>删除行</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Save the product (Ctrl+S); edits are also saved as you type</source>
        <translation>保存商品（Ctrl+S）；输入时也会自动保存</translation>
    </message>
    <message>
        <source>New product</source>
        <translation>新建商品</translation>
    </message>
    <message>
        <source>Editing…</source>
        <translation>编辑中…</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>已保存</translation>
    </message>
</context>
<context>
    <name>SafeModeBanner</name>
    <message>
        <source>Safe mode: third-party plugins are not loaded. Start AdCopy without --safe-mode (and without ADCOPY_SAFE_MODE=1) to use them.</source>
        <translation>安全模式：未加载第三方插件。要使用它们，请不带 --safe-mode（且不设置 ADCOPY_SAFE_MODE=1）启动 AdCopy。</translation>
    </message>
</context>
<context>
    <name>SafeModeOffer</name>
    <message>
        <source>AdCopy stopped unexpectedly</source>
        <translation>AdCopy 意外退出</translation>
    </message>
    <message>
        <source>AdCopy stopped unexpectedly last time while the plugin &apos;{name}&apos;{version} was working ({hook}).</source>
        <translation>上次插件“{name}”{version} 正在工作（{hook}）时，AdCopy 意外退出。</translation>
    </message>
    <message>
        <source>Start in safe mode? No third-party plugin is loaded for this run; you can disable or remove the plugin in the Plugins tab.</source>
        <translation>以安全模式启动吗？本次运行不加载任何第三方插件；您可以在“插件”页停用或移除该插件。</translation>
    </message>
    <message>
        <source>Start in safe mode</source>
        <translation>以安全模式启动</translation>
    </message>
    <message>
        <source>Start normally</source>
        <translation>正常启动</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Automatic (CUDA, then DirectML, then CPU)</source>
        <translation>自动（依次尝试 CUDA、DirectML、CPU）</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Interface language</source>
        <translation>界面语言</translation>
    </message>
    <message>
        <source>Execution provider</source>
        <translation>执行提供程序</translation>
    </message>
    <message>
        <source>Threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <source>Library</source>
        <translation>文案库</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Plugins</source>
        <translation>插件</translation>
    </message>
    <message>
        <source>Logs</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Set ADCOPY_HOME before starting AdCopy to keep all of them in one folder.</source>
        <translation>启动 AdCopy 前设置 ADCOPY_HOME，可把它们都放在同一个文件夹中。</translation>
    </message>
    <message>
        <source>Inference servers</source>
        <translation>推理服务器</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>At once</source>
        <translation>同时请求数</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>(first listed)</source>
        <translation>（列表中的第一个）</translation>
    </message>
    <message>
        <source>in the keyring</source>
        <translation>在系统钥匙串中</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>测试连接</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>编辑…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Remove server</source>
        <translation>删除服务器</translation>
    </message>
    <message>
        <source>Remove the server {name} ({address})? Its API key is deleted from the keyring.</source>
        <translation>删除服务器 {name}（{address}）？它的 API 密钥也会从系统钥匙串中删除。</translation>
    </message>
    <message>
        <source>No server yet: Add… one here (or: adcopy backends add NAME --url http://HOST:PORT/v1).</source>
        <translation>还没有服务器：在这里点“添加…”（或使用：adcopy backends add 名称 --url http://主机:端口/v1）。</translation>
    </message>
    <message>
        <source>Testing {name}…</source>
        <translation>正在测试 {name}…</translation>
    </message>
    <message>
        <source>{name}: connected, model {model}, first token after {seconds:.2f} s</source>
        <translation>{name}：已连接，模型 {model}，首个词元用时 {seconds:.2f} 秒</translation>
    </message>
    <message>
        <source>{name}: {problem}</source>
        <translation>{name}：{problem}</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source> accepted copies</source>
        <translation> 条采纳文案</translation>
    </message>
    <message>
        <source>Train the model in the background by itself after this many newly accepted copies. The new model replaces the current one only if it is not worse on held-out copy.</source>
        <translation>新采纳的文案达到这个数量后，在后台自动训练模型。只有在留出文案上不比当前模型差时，新模型才会替换当前模型。</translation>
    </message>
    <message>
        <source>Trained versions kept per model for rolling back; active versions are always kept.</source>
        <translation>每个模型保留的训练版本数，用于回滚；正在使用的版本始终保留。</translation>
    </message>
    <message>
        <source>Train automatically after</source>
        <translation>自动训练条件</translation>
    </message>
    <message>
        <source>Trained versions to keep</source>
        <translation>保留的训练版本数</translation>
    </message>
</context>
<context>
    <name>ServerDialog</name>
    <message>
        <source>Edit server</source>
        <translation>编辑服务器</translation>
    </message>
    <message>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <source>(first listed)</source>
        <translation>（列表中的第一个）</translation>
    </message>
    <message>
        <source>Requests the server is given at once; bulk jobs write this many items in parallel.</source>
        <translation>同时发给该服务器的请求数；批量任务会并行撰写这么多条。</translation>
    </message>
    <message>
        <source>Stored in the keyring; type a new one to replace it</source>
        <translation>已存于系统钥匙串；输入新密钥即可替换</translation>
    </message>
    <message>
        <source>None; type one if the server wants one</source>
        <translation>无；如服务器需要，请在此输入</translation>
    </message>
    <message>
        <source>Delete the stored key</source>
        <translation>删除已存的密钥</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Requests at once</source>
        <translation>同时请求数</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>This address is plain http: the key would cross the network unencrypted. Put the server behind https if the network is not yours.</source>
        <translation>此地址使用明文 http：密钥会以未加密的方式经过网络。如果网络不归你管理，请让服务器使用 https。</translation>
    </message>
    <message>
        <source>There is a server called {name} already; choose another name, or edit that one.</source>
        <translation>已有名为 {name} 的服务器；请换一个名称，或编辑那台服务器。</translation>
    </message>
</context>
<context>
    <name>TrainingPage</name>
    <message>
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <source>Accepted copy</source>
        <translation>已采纳文案</translation>
    </message>
    <message>
        <source>Preference pairs</source>
        <translation>偏好对</translation>
    </message>
    <message>
        <source>Training data</source>
        <translation>训练数据</translation>
    </message>
    <message>
        <source>Train for</source>
        <translation>训练对象</translation>
    </message>
    <message>
        <source>Hyper-parameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <source>Save as my defaults</source>
        <translation>保存为我的默认值</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <source>Training needs the full edition of AdCopy Desktop (this lite edition writes copy only). Install the full edition over this one: your library, settings and models stay.</source>
        <translation>训练需要 AdCopy Desktop 完整版（当前精简版只能写文案）。请在此之上安装完整版：您的文案库、设置和模型都会保留。</translation>
    </message>
    <message>
        <source>Start training</source>
        <translation>开始训练</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Not running.</source>
        <translation>未在运行。</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Held-out metric</source>
        <translation>留出集指标</translation>
    </message>
    <message>
        <source>Current model</source>
        <translation>当前模型</translation>
    </message>
    <message>
        <source>New model</source>
        <translation>新模型</translation>
    </message>
    <message>
        <source>Within the margin</source>
        <translation>在容差内</translation>
    </message>
    <message>
        <source>Difference (paired)</source>
        <translation>差值（成对）</translation>
    </message>
    <message>
        <source>Evaluation gate</source>
        <translation>评估关卡</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限</translation>
    </message>
    <message>
        <source>Training settings saved.</source>
        <translation>训练设置已保存。</translation>
    </message>
    <message>
        <source>All copy</source>
        <translation>全部文案</translation>
    </message>
    <message>
        <source>All copy (the global model)</source>
        <translation>全部文案（全局模型）</translation>
    </message>
    <message>
        <source>Style {name} (its own model)</source>
        <translation>风格 {name}（独立模型）</translation>
    </message>
    <message>
        <source>Automatic training is off (Settings: train after N accepted copies).</source>
        <translation>自动训练已关闭（设置：采纳 N 条文案后训练）。</translation>
    </message>
    <message>
        <source>Automatic training after {n} newly accepted copies ({count} so far).</source>
        <translation>新采纳 {n} 条文案后自动训练（目前 {count} 条）。</translation>
    </message>
    <message>
        <source>Training is already running.</source>
        <translation>训练已在进行中。</translation>
    </message>
    <message>
        <source>Automatic training</source>
        <translation>自动训练</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Cancelling after the current step…</source>
        <translation>将在当前步骤结束后取消…</translation>
    </message>
    <message>
        <source>Step {step}/{total} · loss {loss} · held-out loss {heldout} · ETA {eta}</source>
        <translation>第 {step}/{total} 步 · 损失 {loss} · 留出集损失 {heldout} · 预计剩余 {eta}</translation>
    </message>
    <message>
        <source>The new model {id} is active.</source>
        <translation>新模型 {id} 已启用。</translation>
    </message>
    <message>
        <source>Not enough held-out copy to tell whether the new model is better; the current model stays.</source>
        <translation>留出文案不足，无法判断新模型是否更好；继续使用当前模型。</translation>
    </message>
    <message>
        <source>The new model was not better; the current model stays.</source>
        <translation>新模型没有更好，继续使用当前模型。</translation>
    </message>
    <message>
        <source>{label}: no held-out examples to compare</source>
        <translation>{label}：没有可比较的留出样例</translation>
    </message>
    <message>
        <source>{label} {diff} (too few examples for an interval), n={n}</source>
        <translation>{label} {diff}（样例太少，无法给出区间），n={n}</translation>
    </message>
    <message>
        <source>{label} {diff} ({level}% CI {low}…{high}), n={n}</source>
        <translation>{label} {diff}（{level}% 置信区间 {low}…{high}），n={n}</translation>
    </message>
    <message>
        <source>can&apos;t tell yet</source>
        <translation>尚无法判断</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Accepted: {version} replaces {parent}.</source>
        <translation>已通过：{version} 替换 {parent}。</translation>
    </message>
    <message>
        <source>Not enough held-out copy to tell: {parent} stays active.</source>
        <translation>留出文案不足，无法判断：继续使用 {parent}。</translation>
    </message>
    <message>
        <source>About {count} more accepted copies would let the gate decide.</source>
        <translation>再接受约 {count} 条文案，评估关卡就能作出判断。</translation>
    </message>
    <message>
        <source>The gate would need about {count} held-out examples.</source>
        <translation>评估关卡约需 {count} 个留出样例。</translation>
    </message>
    <message>
        <source>Refused: {parent} stays active.</source>
        <translation>未通过：继续使用 {parent}。</translation>
    </message>
    <message>
        <source>{examples} examples trained on, {held_out} held out, {pairs} pairs, {seconds}.</source>
        <translation>训练样本 {examples} 条，留出 {held_out} 条，偏好对 {pairs} 个，用时 {seconds}。</translation>
    </message>
    <message>
        <source>Cancelled; the active model is unchanged.</source>
        <translation>已取消；当前模型未改变。</translation>
    </message>
</context>
<context>
    <name>WritePage</name>
    <message>
        <source>Choose or add a product, then press Generate (Ctrl+Enter).</source>
        <translation>选择或添加一个商品，然后点击“生成”（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>That product was deleted; its copy is still in the library.</source>
        <translation>该商品已删除；它的文案仍在文案库中。</translation>
    </message>
    <message>
        <source>Candidates for “{product}”</source>
        <translation>“{product}”的候选文案</translation>
    </message>
    <message>
        <source>Scoring</source>
        <translation>评分</translation>
    </message>
    <message>
        <source>The product is not complete yet: {problem}</source>
        <translation>商品信息尚不完整：{problem}</translation>
    </message>
    <message>
        <source>add at least one attribute</source>
        <translation>请至少添加一个属性</translation>
    </message>
    <message>
        <source>Generating {count} candidates…</source>
        <translation>正在生成 {count} 条候选…</translation>
    </message>
    <message>
        <source>Regenerating candidate {number}…</source>
        <translation>正在重新生成候选 {number}…</translation>
    </message>
    <message>
        <source>Generation</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Loading the model and writing…</source>
        <translation>正在加载模型并撰写…</translation>
    </message>
    <message>
        <source>Stopped; {count} partial candidates kept.</source>
        <translation>已停止；保留了 {count} 条未完成的候选。</translation>
    </message>
    <message>
        <source>{count} candidates, {speed:.1f} tokens/s</source>
        <translation>{count} 条候选，{speed:.1f} 词元/秒</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>出错</translation>
    </message>
    <message>
        <source>Notifying plugins</source>
        <translation>通知插件</translation>
    </message>
    <message>
        <source>Copied candidate {number} to the clipboard.</source>
        <translation>已把候选 {number} 复制到剪贴板。</translation>
    </message>
</context>
</TS>
